# greenify: one Makefile. `make` builds build/libgreenify.so and build/greenify;
# `make test` and `make demo` first install missing Debian packages.

VERSION := 0.1.0
CC ?= cc
CXX ?= g++
# Debian's rustc (scripts/deps.sh test), not a rustup toolchain in $PATH.
RUSTC ?= /usr/bin/rustc
BUILD ?= build
PREFIX ?= /usr/local
DESTDIR ?=
V ?= 0
ifeq ($(V),0)
Q := @
say = @echo '  $(1) $@'
else
Q :=
say = @true
endif

ARCH := $(shell $(CC) -dumpmachine | cut -d- -f1)
# The system's libuv, for the programs that use one of their own (the echo
# reference server, a test): never for the library.
SYS_UV_CFLAGS = $(shell pkg-config --cflags libuv)
SYS_UV_LIBS = $(shell pkg-config --libs libuv)
CHECK_CFLAGS = $(shell pkg-config --cflags check)
CHECK_LIBS = $(shell pkg-config --libs check)

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
OPT ?= -O2
SAN ?=
# Link-time optimisation of the runtime and arch/: many small modules whose
# calls into each other (a create and a join cross a dozen) gcc inlines
# only when it sees them all (create + join: 1,935 -> 1,753 instructions).
# Not the hooks (preload/, below). One partition: the runtime is small,
# and a module's top-level asm may call its static functions. LTO= builds
# without.
LTO ?= -flto=auto -flto-partition=one
CFLAGS_LIB = -std=gnu11 $(OPT) -g $(WARN) -fPIC -fvisibility=hidden \
	-fno-omit-frame-pointer -D_GNU_SOURCE $(SAN) $(LTO) $(UV_CFLAGS)
CFLAGS_PROG = -std=gnu11 -O1 -g -Wall -Wextra -Werror -pthread
CXXFLAGS_PROG = -std=gnu++20 -O1 -g -Wall -Wextra -Werror -pthread
# The test programs' header dependencies, written beside each program.
DEPFLAGS = -MMD -MP -MF $@.d
CFLAGS_BENCH = -std=gnu11 -O2 -g -Wall -Wextra -Werror -pthread

ifeq ($(ARCH),x86_64)
ARCH_SRC := arch/ctx.c arch/x86_64.c arch/x86_64.S
# Clearing and copying a structure of a known size: gcc's generic tuning
# does it with rep stos/movs from ~64 bytes, whose start-up costs tens of
# cycles (every read and write hook cleared its 104-byte argument block
# so); unrolled stores up to 256 bytes, glibc's vector memset and memcpy
# beyond.
CFLAGS_LIB += -mmemset-strategy=unrolled_loop:256:noalign,libcall:-1:noalign \
	-mmemcpy-strategy=unrolled_loop:256:noalign,libcall:-1:noalign
else ifeq ($(ARCH),aarch64)
ARCH_SRC := arch/ctx.c arch/aarch64.c arch/aarch64.S
else
ARCH_SRC := arch/ctx.c arch/none.c
endif
# libuv, from Debian 12's source package (scripts/libuv.sh fetches, checks
# and unpacks it with Debian's patches), compiled position-independent with
# hidden symbols into libgreenify.so, which then exports no uv_ symbol: its
# loop and thread pool are its own, whatever libuv a program uses. The
# archive is kept per architecture in build/libuv (about 40 files, once).
# Its source list and defines are those of libuv's CMakeLists.txt for Linux.
UV_DIR := build/libuv
UV_SRC := $(UV_DIR)/libuv1-1.44.2
UV_STAMP := $(UV_SRC)/.unpacked
UV_A := $(UV_DIR)/$(ARCH)/libuv.a
UV_CFLAGS := -I$(UV_SRC)/include
UV_FILES := fs-poll idna inet random strscpy strtok threadpool timer uv-common \
	uv-data-getter-setters version $(addprefix unix/,async core dl fs getaddrinfo \
	getnameinfo loop-watcher loop pipe poll process random-devurandom signal stream \
	tcp thread tty udp linux-core linux-inotify linux-syscalls procfs-exepath \
	random-getrandom random-sysctl-linux epoll proctitle)
UV_OBJ := $(patsubst %,$(UV_DIR)/$(ARCH)/%.o,$(UV_FILES))
# The archiver of CC's target (a cross gcc names its own).
UV_AR := $(shell $(CC) -print-prog-name=ar)
UV_BUILD_CFLAGS := -std=gnu89 -O2 -g -fPIC -fvisibility=hidden -fno-strict-aliasing \
	-fstack-protector-strong -D_FORTIFY_SOURCE=2 -D_FILE_OFFSET_BITS=64 -D_LARGEFILE_SOURCE \
	-D_GNU_SOURCE -D_POSIX_C_SOURCE=200112 -Wall -Wno-unused-parameter -Wno-dangling-pointer \
	-I$(UV_SRC)/include -I$(UV_SRC)/src \
	-Depoll_create1=gr_uv_epoll_create1 -Depoll_create=gr_uv_epoll_create \
	-Deventfd=gr_uv_eventfd -Dpipe2=gr_uv_pipe2

RUNTIME_SRC := $(sort $(wildcard runtime/*.c))
PRELOAD_SRC := $(sort $(wildcard preload/*.c))

obj = $(patsubst %,$(BUILD)/obj/%.o,$(1))
ARCH_OBJ := $(call obj,$(ARCH_SRC))
RUNTIME_OBJ := $(call obj,$(RUNTIME_SRC))
PRELOAD_OBJ := $(call obj,$(PRELOAD_SRC))

LIB := $(BUILD)/libgreenify.so
CLI := $(BUILD)/greenify
UNIT := $(BUILD)/tests/unit/check_greenify
INTEG_SRC := $(sort $(wildcard tests/integ/*.c))
INTEG_CXX_SRC := $(sort $(wildcard tests/integ/*.cc))
INTEG_PY_SRC := $(sort $(wildcard tests/integ/*.py))
INTEG_RS_SRC := $(sort $(wildcard tests/integ/*.rs))
INTEG := $(patsubst tests/integ/%.c,$(BUILD)/tests/integ/%,$(INTEG_SRC)) \
	$(patsubst tests/integ/%.cc,$(BUILD)/tests/integ/%,$(INTEG_CXX_SRC)) \
	$(patsubst tests/integ/%.py,$(BUILD)/tests/integ/%,$(INTEG_PY_SRC))
# Programs tagged /* build-also: shared */ dlopen a library built from their
# own source (tests/run-integ.sh says how).
INTEG_SHARED_SRC := $(shell grep -l '^/\* build-also: shared \*/$$' $(INTEG_SRC) /dev/null)
INTEG += $(patsubst tests/integ/%.c,$(BUILD)/tests/integ/%.so,$(INTEG_SHARED_SRC))
# ... and /* build-also: shared2 */ a second one too, <name>.2.so.
INTEG_SHARED2_SRC := $(shell grep -l '^/\* build-also: shared2 \*/$$' $(INTEG_SRC) /dev/null)
INTEG += $(patsubst tests/integ/%.c,$(BUILD)/tests/integ/%.2.so,$(INTEG_SHARED2_SRC))
# Rust programs only when rustc is there: tests/run-integ.sh then skips them.
ifneq ($(wildcard $(RUSTC)),)
INTEG += $(patsubst tests/integ/%.rs,$(BUILD)/tests/integ/%,$(INTEG_RS_SRC))
endif
# check.h compiled as C++ (a rule below).
INTEG += $(BUILD)/tests/integ/check.h.cxx.o
# INTEG_NAMES="a b": `make integ` builds and runs only these programs.
INTEG_NAMES ?=
ifneq ($(strip $(INTEG_NAMES)),)
INTEG_PICK := $(filter $(patsubst %,$(BUILD)/tests/integ/%,$(INTEG_NAMES)) \
	$(patsubst %,$(BUILD)/tests/integ/%.so,$(INTEG_NAMES)) \
	$(patsubst %,$(BUILD)/tests/integ/%.2.so,$(INTEG_NAMES)),$(INTEG))
else
INTEG_PICK := $(INTEG)
endif
# The audit's probes (tests/audit/): programs tests/run-audit.sh audits,
# never runs.
AUDIT_PROBES := $(patsubst tests/audit/%.c,$(BUILD)/tests/audit/%,$(sort $(wildcard tests/audit/*.c)))
# The portable test of the context switch (tests/arch/), with the switch of
# CC's target.
SWITCH_TEST := $(BUILD)/tests/arch/switch_portable
BENCH_SRC := $(sort $(wildcard bench/*.c))
BENCH := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC)) $(BUILD)/bench/micro_switch \
	$(BUILD)/bench/echo_threads $(BUILD)/bench/echo_uv $(BUILD)/bench/echo_load

.PHONY: all test check unit integ integ-programs demo bench install uninstall clean \
	format lint sanitize valgrind memcheck deps-build deps-test deps-demo deps-bench \
	deps-lint check-symbols test-aarch64 test-programs aarch64-programs vg-lib audit

AUDIT := $(BUILD)/greenify-audit $(BUILD)/catalogue.tsv

MAN := $(BUILD)/greenify.1
DUMP_CLIENT := $(BUILD)/greenify-dump

all: $(LIB) $(CLI) $(AUDIT) $(MAN) $(DUMP_CLIENT)

deps-build:
	@scripts/deps.sh build
deps-test:
	@scripts/deps.sh build test
deps-demo:
	@scripts/deps.sh build demo
deps-bench:
	@scripts/deps.sh build demo bench
deps-lint:
	@scripts/deps.sh build lint

$(UV_STAMP): scripts/libuv.sh
	$(call say,FETCH)
	$(Q)scripts/libuv.sh $(UV_DIR)

# The sources come with the stamp, and never change after it; the objects
# are made again when the flags change (the file flags keeps the last).
UV_FLAGS := $(UV_DIR)/$(ARCH)/flags
ifneq ($(file < $(UV_FLAGS)),$(UV_BUILD_CFLAGS))
$(shell mkdir -p $(UV_DIR)/$(ARCH) && printf '%s' '$(UV_BUILD_CFLAGS)' > $(UV_FLAGS))
endif
$(UV_FLAGS): ;
$(UV_DIR)/$(ARCH)/%.o: $(UV_STAMP) $(UV_FLAGS)
	@mkdir -p $(dir $@)
	$(call say,CC)
	$(Q)$(CC) $(UV_BUILD_CFLAGS) -c $(UV_SRC)/src/$*.c -o $@

# libuv's destructor (uv_library_shutdown) would join the pool's threads
# at exit, through mutexes and conditions they wait on for real, so every
# hook would have to call libc from then on, and a program's own libuv,
# whose pool threads are green, could no longer end its pool at exit. The
# process's exit ends those threads anyway: the function is no destructor
# in our copy.
$(UV_DIR)/$(ARCH)/uv-common.o: UV_BUILD_CFLAGS += -Ddestructor=unused

$(UV_A): $(UV_OBJ)
	$(call say,AR)
	$(Q)rm -f $@ && $(UV_AR) rcs $@ $^

$(BUILD)/obj/%.c.o: %.c $(wildcard arch/*.h runtime/*.h preload/*.h) | $(UV_STAMP)
	@mkdir -p $(dir $@)
	$(call say,CC)
	$(Q)$(CC) $(CFLAGS_LIB) -c $< -o $@

# The monitor names system calls: a table of this target's <sys/syscall.h>
# (so the cross build gets aarch64's numbers).
$(BUILD)/gen/sysnames.h:
	@mkdir -p $(dir $@)
	$(call say,GEN)
	$(Q)echo '#include <sys/syscall.h>' | $(CC) -E -dM -x c - | \
		sed -n 's/^#define SYS_\([a-z0-9_]*\) .*/\1/p' | sort -u | \
		awk '{ printf "#ifdef SYS_%s\n\t{SYS_%s, \"%s\"},\n#endif\n", $$1, $$1, $$1 }' >$@.tmp
	$(Q)mv $@.tmp $@
$(BUILD)/obj/runtime/monitor.c.o: $(BUILD)/gen/sysnames.h
$(BUILD)/obj/runtime/monitor.c.o: CFLAGS_LIB += -I$(BUILD)/gen

# Unwinding (a C++ exception, cancellation) through an init routine runs
# pthread_once's cleanup, as in glibc's own build of it. Not link-time
# optimised: inlined into code built without -fexceptions, its cleanups
# would lose their unwind regions (a cancelled init routine crashed so).
$(BUILD)/obj/runtime/once.c.o: CFLAGS_LIB += -fexceptions -fno-lto
# The stdio hooks hand their FILE holds back in cleanups that a
# cancellation's unwinding runs too.
$(BUILD)/obj/preload/stdio_%.c.o: CFLAGS_LIB += -fexceptions -fno-lto
# The hooks are not link-time optimised: the monitor's unwinding reads
# their frames (a raw system call's site lost the program's frames above
# it when they were: monitor_names_raw_syscall_and_compute).
$(BUILD)/obj/preload/%.c.o: CFLAGS_LIB += -fno-lto

$(BUILD)/obj/%.S.o: %.S
	@mkdir -p $(dir $@)
	$(call say,AS)
	$(Q)$(CC) -g $(SAN) -c $< -o $@

# --exclude-libs: uv.h declares libuv's API with default visibility; taken
# from the archive, every one of its symbols stays inside the library.
$(LIB): $(ARCH_OBJ) $(RUNTIME_OBJ) $(PRELOAD_OBJ) $(UV_A) runtime/libgreenify.map
	$(call say,LD)
	$(Q)$(CC) -shared $(OPT) $(SAN) $(LTO) -Wl,-z,now -Wl,--version-script=runtime/libgreenify.map -Wl,--no-undefined -Wl,--exclude-libs,ALL -o $@ \
		$(filter %.o,$^) $(UV_A) -ldl -lgcc_s

$(CLI): scripts/greenify.sh Makefile
	@mkdir -p $(dir $@)
	$(call say,GEN)
	$(Q)sed -e 's/@VERSION@/$(VERSION)/' $< > $@
	$(Q)chmod +x $@

# The client of greenify dump PID, next to the wrapper.
$(DUMP_CLIENT): scripts/greenify-dump.c
	@mkdir -p $(dir $@)
	$(call say,CC)
	$(Q)$(CC) -std=gnu11 -O2 -Wall -Wextra -Werror -o $@ $<

# The manual page, with the version.
$(MAN): scripts/greenify.1 Makefile
	@mkdir -p $(dir $@)
	$(call say,GEN)
	$(Q)sed -e 's/@VERSION@/$(VERSION)/' $< > $@

# The audit (greenify --audit) and the catalogue it reads, next to the wrapper.
$(BUILD)/greenify-audit: scripts/greenify-audit.py
	@mkdir -p $(dir $@)
	$(call say,GEN)
	$(Q)cp $< $@
	$(Q)chmod +x $@

$(BUILD)/catalogue.tsv: preload/catalogue.tsv
	@mkdir -p $(dir $@)
	$(Q)cp $< $@

# Unit tests link the runtime and arch objects directly, without preload/.
$(UNIT): tests/unit/*.c tests/unit/*.h $(ARCH_OBJ) $(RUNTIME_OBJ) $(UV_A)
	@mkdir -p $(dir $@)
	$(call say,LD)
	$(Q)$(CC) $(CFLAGS_LIB) $(CHECK_CFLAGS) -o $@ tests/unit/*.c $(ARCH_OBJ) \
		$(RUNTIME_OBJ) $(UV_A) $(CHECK_LIBS) -ldl

# The test programs. A program's own /* cflags: ... */, /* ldlibs: ... */
# and /* link: ... */ tags (a fortified build, a library to link: -luv, the
# system's libuv) are added to its command (tests/run-integ.sh lists them).
integ_tag = $(shell sed -n 's|^/\* $(1): \(.*\) \*/$$|\1|p' $(2))
$(BUILD)/tests/integ/%: tests/integ/%.c
	@mkdir -p $(dir $@)
	$(call say,CC)
	$(Q)$(CC) $(CFLAGS_PROG) $(call integ_tag,cflags,$<) $(DEPFLAGS) -o $@ $< -lm \
		$(call integ_tag,ldlibs,$<) $(call integ_tag,link,$<)

$(BUILD)/tests/integ/%: tests/integ/%.cc
	@mkdir -p $(dir $@)
	$(call say,CXX)
	$(Q)$(CXX) $(CXXFLAGS_PROG) $(DEPFLAGS) -o $@ $< $(link_tag)

$(BUILD)/tests/integ/%.so: tests/integ/%.c
	@mkdir -p $(dir $@)
	$(call say,CC)
	$(Q)$(CC) $(CFLAGS_PROG) $(call integ_tag,cflags,$<) $(DEPFLAGS) -DINTEG_SHARED -shared -fPIC -o $@ $<

$(BUILD)/tests/integ/%.2.so: tests/integ/%.c
	@mkdir -p $(dir $@)
	$(call say,CC)
	$(Q)$(CC) $(CFLAGS_PROG) $(call integ_tag,cflags,$<) $(DEPFLAGS) -DINTEG_SHARED2 -shared -fPIC -o $@ $<

$(BUILD)/tests/integ/%: tests/integ/%.rs
	@mkdir -p $(dir $@)
	$(call say,RUSTC)
	$(Q)$(RUSTC) -O --edition 2021 -C debuginfo=1 -D warnings -o $@ $<

# A Python program runs with Debian's interpreter (CPython threads are
# pthreads): its "binary" is a launcher.
$(BUILD)/tests/integ/%: tests/integ/%.py
	@mkdir -p $(dir $@)
	$(call say,GEN)
	$(Q)printf '#!/bin/sh\nexec /usr/bin/python3 %s "$$@"\n' $(abspath $<) > $@
	$(Q)chmod +x $@

# check.h serves the C++ programs too: it must compile as C++, warnings and
# all, whether or not a program of the moment includes it.
$(BUILD)/tests/integ/check.h.cxx.o: tests/integ/check.h
	@mkdir -p $(dir $@)
	$(call say,CXX)
	$(Q)$(CXX) $(CXXFLAGS_PROG) -x c++ -c -o $@ $<

$(BUILD)/tests/audit/%: tests/audit/%.c
	@mkdir -p $(dir $@)
	$(call say,CC)
	$(Q)$(CC) $(CFLAGS_PROG) $(DEPFLAGS) -o $@ $<

$(SWITCH_TEST): tests/arch/switch_portable.c $(ARCH_SRC)
	@mkdir -p $(dir $@)
	$(call say,CC)
	$(Q)$(CC) -std=gnu11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE $(DEPFLAGS) -o $@ $^ -lm

-include $(wildcard $(BUILD)/tests/integ/*.d $(BUILD)/tests/arch/*.d $(BUILD)/tests/audit/*.d)

$(BUILD)/bench/%: bench/%.c bench/bench.h
	@mkdir -p $(dir $@)
	$(call say,CC)
	$(Q)$(CC) $(CFLAGS_BENCH) -o $@ $<

$(BUILD)/bench/echo_threads $(BUILD)/bench/echo_load: $(BUILD)/bench/%: bench/echo/%.c
	@mkdir -p $(dir $@)
	$(call say,CC)
	$(Q)$(CC) $(CFLAGS_BENCH) -o $@ $<

# The event-loop reference server links libuv.
$(BUILD)/bench/echo_uv: bench/echo/echo_uv.c
	@mkdir -p $(dir $@)
	$(call say,CC)
	$(Q)$(CC) $(CFLAGS_BENCH) $(SYS_UV_CFLAGS) -o $@ $< $(SYS_UV_LIBS)

# The raw context switch, without the scheduler: links arch/ only.
$(BUILD)/bench/micro_switch: bench/micro/switch.c $(ARCH_OBJ)
	@mkdir -p $(dir $@)
	$(call say,CC)
	$(Q)$(CC) $(CFLAGS_BENCH) -o $@ $^

unit: $(UNIT)
	$(UNIT)

check-symbols: $(LIB)
	tests/check-symbols.sh $(LIB) tests/exported-symbols.txt $(ARCH_OBJ) $(RUNTIME_OBJ)

# -j for the builds of `make test` and `make check` when make was not given
# one (the programs of the test matrix are hundreds of independent files).
JOBS = $(if $(findstring jobserver,$(MAKEFLAGS)),,-j$(shell nproc))

# The catalogue against the library and the README; greenify --audit on
# test programs and on every ELF file in /usr/bin and /usr/sbin.
audit: all $(INTEG) $(AUDIT_PROBES)
	tests/run-audit.sh $(BUILD)

# Every test program of this build; INTEG_NAMES picks some.
integ-programs: $(INTEG_PICK)

# The CLI and the dump client too: a program runs greenify dump on itself.
integ: $(LIB) $(CLI) $(DUMP_CLIENT) integ-programs
	tests/run-integ.sh $(BUILD) $(INTEG_NAMES)
ifeq ($(strip $(INTEG_NAMES)),)
	tests/run-iperf.sh $(BUILD)
	tests/run-siege.sh $(BUILD)
	tests/run-privoxy.sh $(BUILD)
	tests/run-node.sh $(BUILD)
endif

# The aarch64 switch, cross-built and run under qemu-user. On an x86_64
# host, then the whole library, cross-built into $(BUILD)/aarch64 against
# libuv cross-compiled from the same source, and the programs of
# tests/arch/integ-aarch64.txt run with it under qemu-user (natively and
# preloaded). An aarch64 host runs every program natively in `make test`.
AARCH64_BUILD := $(BUILD)/aarch64
AARCH64_INTEG = $(shell awk '/^[a-z0-9_]/ { print $$1 }' tests/arch/integ-aarch64.txt)
ifeq ($(shell uname -m),x86_64)
aarch64-programs:
	$(Q)$(MAKE) --no-print-directory CC=aarch64-linux-gnu-gcc CXX=aarch64-linux-gnu-g++ \
		BUILD=$(AARCH64_BUILD) INTEG_NAMES="$(AARCH64_INTEG)" \
		$(AARCH64_BUILD)/libgreenify.so $(AARCH64_BUILD)/tests/arch/switch_portable \
		integ-programs
test-aarch64: $(SWITCH_TEST) aarch64-programs
	tests/arch/run-aarch64.sh $(SWITCH_TEST) $(AARCH64_BUILD)/tests/arch/switch_portable
	INTEG_RUNNER=tests/arch/qemu-aarch64.sh INTEG_TIMEOUT=120 \
		tests/run-integ.sh $(AARCH64_BUILD) $(AARCH64_INTEG)
else
aarch64-programs:
test-aarch64: $(SWITCH_TEST)
	tests/arch/run-aarch64.sh $(SWITCH_TEST)
endif

# The library for the memcheck mode, with green stacks registered with
# valgrind, in a build directory of its own.
vg-lib:
	$(Q)$(MAKE) --no-print-directory BUILD=$(BUILD)/vg SAN=-DGR_VALGRIND $(BUILD)/vg/libgreenify.so

# Everything `make test` runs, built in one parallel make.
test-programs: all $(UNIT) $(INTEG) $(AUDIT_PROBES) $(SWITCH_TEST) vg-lib aarch64-programs \
	$(BUILD)/bench/preempt_ticker $(BUILD)/bench/pshared_pingpong

# The whole matrix: unit, symbols, the wrapper, every integration program in
# every mode (and iperf), memcheck, aarch64.
test: deps-test
	$(MAKE) --no-print-directory $(JOBS) test-programs
	$(UNIT)
	$(MAKE) --no-print-directory check-symbols
	tests/run-cli.sh $(BUILD)
	$(MAKE) --no-print-directory audit
	$(MAKE) --no-print-directory integ
	$(MAKE) --no-print-directory memcheck
	$(MAKE) --no-print-directory test-aarch64

# The developer's fast path (under a minute on two quiet cores): unit,
# symbols, and every integration program natively and in the default
# preload mode. `make test` runs the rest.
check: deps-test
	$(MAKE) --no-print-directory $(JOBS) all $(UNIT) $(INTEG)
	$(UNIT)
	$(MAKE) --no-print-directory check-symbols
	INTEG_MODES=preload tests/run-integ.sh $(BUILD)

demo: deps-demo
	$(MAKE) --no-print-directory all $(BENCH)
	scripts/demo.sh $(BUILD)

bench: deps-bench
	$(MAKE) --no-print-directory all $(BENCH)
	scripts/demo.sh $(BUILD)
	scripts/bench-refs.sh $(BUILD)
	scripts/bench-locks.sh $(BUILD)
	scripts/bench-echo.sh $(BUILD)
	scripts/bench-tls.sh $(BUILD)
	scripts/bench-preempt.sh $(BUILD)
	scripts/bench-monitor.sh $(BUILD)
	scripts/bench-vs-go.sh $(BUILD)
	scripts/bench-python.sh $(BUILD)
	scripts/bench-pshared.sh $(BUILD)
	scripts/bench-sendfile.sh $(BUILD)
	tests/run-privoxy.sh $(BUILD) --bench
	scripts/bench-mariadb.sh $(BUILD)
	scripts/bench-stdio.sh $(BUILD)

# Sanitizer build: UBSan in the library and the unit tests (ASan does not
# follow our stack switches), in its own build directory; the integration
# programs (this build's) run natively and in the default preload mode with
# that library.
SAN_BUILD := build-san
sanitize: deps-test
	$(MAKE) --no-print-directory $(JOBS) integ-programs
	$(MAKE) --no-print-directory $(JOBS) BUILD=$(SAN_BUILD) OPT=-O1 \
		SAN='-fsanitize=undefined -fno-sanitize-recover=all -DGR_UBSAN' \
		$(SAN_BUILD)/libgreenify.so $(SAN_BUILD)/tests/unit/check_greenify
	$(SAN_BUILD)/tests/unit/check_greenify
	INTEG_MODES=preload INTEG_LIB=$(SAN_BUILD)/libgreenify.so tests/run-integ.sh $(BUILD)

# The unit tests under memcheck, built apart with green stacks registered;
# then the integration programs tagged run-also: memcheck.
valgrind: deps-test
	$(MAKE) --no-print-directory BUILD=build-vg SAN=-DGR_VALGRIND build-vg/tests/unit/check_greenify
	CK_TIMEOUT_MULTIPLIER=20 valgrind --error-exitcode=1 -q build-vg/tests/unit/check_greenify
	$(MAKE) --no-print-directory memcheck

# Integration programs tagged /* run-also: memcheck */, preloaded under
# valgrind's memcheck with a library of their own whose green stacks are
# registered with valgrind (a few seconds: part of make test).
MEMCHECK_INTEG = $(basename $(notdir $(shell grep -l '^/\* run-also: .*memcheck.* \*/$$' \
	$(INTEG_SRC) $(INTEG_CXX_SRC) /dev/null)))
memcheck: $(LIB) $(INTEG) vg-lib
	INTEG_MODES=memcheck INTEG_MEMCHECK_LIB=$(BUILD)/vg/libgreenify.so \
		tests/run-integ.sh $(BUILD) $(MEMCHECK_INTEG)

install: all
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/bin
	install -m 0644 $(LIB) $(DESTDIR)$(PREFIX)/lib/libgreenify.so
	install -m 0755 $(CLI) $(DESTDIR)$(PREFIX)/bin/greenify
	install -d $(DESTDIR)$(PREFIX)/share/greenify
	install -m 0755 $(BUILD)/greenify-audit $(DESTDIR)$(PREFIX)/share/greenify/greenify-audit
	install -m 0644 $(BUILD)/catalogue.tsv $(DESTDIR)$(PREFIX)/share/greenify/catalogue.tsv
	install -m 0755 $(DUMP_CLIENT) $(DESTDIR)$(PREFIX)/share/greenify/greenify-dump
	install -d $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 0644 $(MAN) $(DESTDIR)$(PREFIX)/share/man/man1/greenify.1

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/lib/libgreenify.so $(DESTDIR)$(PREFIX)/bin/greenify
	rm -rf $(DESTDIR)$(PREFIX)/share/greenify
	rm -f $(DESTDIR)$(PREFIX)/share/man/man1/greenify.1

FORMAT_SRC = $(wildcard arch/*.[ch] runtime/*.[ch] preload/*.[ch] tests/unit/*.[ch])
format:
	clang-format -i $(FORMAT_SRC)

SHELL_SRC = $(wildcard tests/*.sh tests/arch/*.sh scripts/*.sh) .ci/run
lint: deps-lint
	clang-format --dry-run --Werror $(FORMAT_SRC)
	shellcheck -x -S warning $(SHELL_SRC)
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
		--inline-suppr --suppress=missingIncludeSystem -D_GNU_SOURCE \
		-I runtime -I arch arch runtime preload

clean:
	rm -rf build build-san build-vg
