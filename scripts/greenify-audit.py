#!/usr/bin/env python3
"""greenify's audit: which blocking libc functions a program imports, and
how greenify treats each (preload/catalogue.tsv).

  greenify-audit [--catalogue FILE] PROG [LIB...]
      PROG, the libraries it loads (DT_NEEDED, recursively, found as the
      dynamic linker finds them: RPATH, RUNPATH, ld.so.cache, the default
      directories) and any LIB named (one the program dlopens) are read;
      every function they import that the catalogue lists is printed with
      its state: green, pool, plain by design, <stream> (pending), or NOT
      HANDLED. Exits 1 if any is NOT HANDLED.
  greenify-audit [--catalogue FILE] --many FILE...
      the same for each ELF file among FILEs (others are skipped): prints
      the files that import something NOT HANDLED or pending, then one
      summary of the distinct functions imported.
  greenify-audit [--catalogue FILE] --readme
      prints the README's table of the catalogue.
  greenify-audit [--catalogue FILE] --check-readme README.md
      exits 1 (and shows the difference) if the README's table is not the
      catalogue's.

Libraries a program loads with dlopen are not seen unless named; calls a
library makes inside itself (glibc's internal calls) are not imports.
"""
import difflib
import os
import struct
import subprocess
import sys

LABEL = {
    "green": "green",
    "pool": "pool",
    "plain": "plain by design",
    "unhandled": "NOT HANDLED",
}
ORDER = ["unhandled", "pending", "pool", "green", "plain"]


def label(state):
    if state.startswith("pending-"):
        return state[len("pending-"):] + " (pending)"
    return LABEL[state]


def kind(state):
    return "pending" if state.startswith("pending-") else state


def load_catalogue(path):
    cat = {}
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if not line.strip() or line.startswith("#"):
                continue
            cols = line.rstrip("\n").split("\t")
            if len(cols) != 5:
                sys.exit("%s:%d: expected 5 tab-separated columns" % (path, n))
            name, family, state, hook, note = cols
            if state not in LABEL and not state.startswith("pending-"):
                sys.exit("%s:%d: unknown state %r" % (path, n, state))
            if name in cat:
                sys.exit("%s:%d: %s listed twice" % (path, n, name))
            cat[name] = {"family": family, "state": state, "hook": hook, "note": note}
    return cat


# ---- ELF ----------------------------------------------------------------

class Elf:
    """The dynamic section and the undefined dynamic symbols of one file."""

    def __init__(self, path):
        self.path = path
        with open(path, "rb") as f:
            data = f.read()
        if data[:4] != b"\x7fELF":
            raise ValueError("not ELF")
        self.cls = data[4]
        end = "<" if data[5] == 1 else ">"
        if self.cls == 2:
            hdr = struct.unpack_from(end + "HHIQQQIHHHHHH", data, 16)
            _, self.machine, _, _, _, shoff, _, _, _, _, shentsize, shnum, _ = hdr
            shfmt, symfmt, symsize, dynfmt, dynsize = end + "IIQQQQIIQQ", end + "IBBHQQ", 24, end + "qQ", 16
        elif self.cls == 1:
            hdr = struct.unpack_from(end + "HHIIIIIHHHHHH", data, 16)
            _, self.machine, _, _, _, shoff, _, _, _, _, shentsize, shnum, _ = hdr
            shfmt, symfmt, symsize, dynfmt, dynsize = end + "IIIIIIIIII", end + "IIIBBH", 16, end + "iI", 8
        else:
            raise ValueError("unknown ELF class")
        secs = []
        for i in range(shnum):
            s = struct.unpack_from(shfmt, data, shoff + i * shentsize)
            # name, type, flags, addr, offset, size, link, info, align, entsize
            secs.append(s)
        self.needed, self.rpath, self.runpath, self.imports = [], [], [], set()

        def strtab(idx):
            s = secs[idx]
            return data[s[4]:s[4] + s[5]]

        def cstr(tab, off):
            return tab[off:tab.index(b"\0", off)].decode("utf-8", "replace")

        for s in secs:
            if s[1] == 6:  # SHT_DYNAMIC
                tab = strtab(s[6])
                for off in range(s[4], s[4] + s[5], dynsize):
                    tag, val = struct.unpack_from(dynfmt, data, off)
                    if tag == 0:
                        break
                    if tag == 1:
                        self.needed.append(cstr(tab, val))
                    elif tag == 15:
                        self.rpath += cstr(tab, val).split(":")
                    elif tag == 29:
                        self.runpath += cstr(tab, val).split(":")
            elif s[1] == 11:  # SHT_DYNSYM
                tab = strtab(s[6])
                for off in range(s[4] + symsize, s[4] + s[5], symsize):
                    if self.cls == 2:
                        name, info, _, shndx, _, _ = struct.unpack_from(symfmt, data, off)
                    else:
                        name, _, _, info, _, shndx = struct.unpack_from(symfmt, data, off)
                    bind, typ = info >> 4, info & 15
                    if shndx == 0 and bind in (1, 2) and typ in (0, 2) and name:
                        self.imports.add(cstr(tab, name))


_elves = {}


def elf(path):
    """Elf(path), read once per run (the --many sweep meets libc 1,000 times)."""
    real = os.path.realpath(path)
    if real not in _elves:
        try:
            _elves[real] = Elf(path)
        except (OSError, ValueError, struct.error) as e:
            _elves[real] = e
    if isinstance(_elves[real], Exception):
        raise _elves[real]
    return _elves[real]


_cache = None


def ld_cache():
    """soname -> paths, from ldconfig -p."""
    global _cache
    if _cache is None:
        _cache = {}
        try:
            out = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True).stdout
        except OSError:
            out = ""
        for line in out.splitlines()[1:]:
            if "=>" in line:
                left, path = line.split("=>", 1)
                _cache.setdefault(left.split()[0], []).append(path.strip())
    return _cache


DEFAULT_DIRS = ["/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu",
                "/usr/lib/aarch64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib"]


def find_lib(name, loader, main):
    if "/" in name:
        return name if os.path.exists(name) else None
    origin = os.path.dirname(os.path.realpath(loader.path))
    dirs = [d.replace("$ORIGIN", origin).replace("${ORIGIN}", origin)
            for d in (loader.rpath if not loader.runpath else []) + loader.runpath]
    cands = [os.path.join(d, name) for d in dirs if d]
    cands += ld_cache().get(name, [])
    cands += [os.path.join(d, name) for d in DEFAULT_DIRS]
    for c in cands:
        try:
            e = elf(c)
        except (OSError, ValueError, struct.error):
            continue
        if e.cls == main.cls and e.machine == main.machine:
            return c
    return None


def closure(paths):
    """Every object the files load, as Elf objects; names not found."""
    seen, objs, missing = set(), [], []
    main = None
    todo = []
    for p in paths:
        e = elf(p)
        main = main or e
        todo.append(e)
    while todo:
        e = todo.pop(0)
        real = os.path.realpath(e.path)
        if real in seen:
            continue
        seen.add(real)
        objs.append(e)
        for n in e.needed:
            lib = find_lib(n, e, main)
            if lib is None:
                missing.append(n)
            elif os.path.realpath(lib) not in seen:
                todo.append(elf(lib))
    return objs, missing


# ---- the audit ----------------------------------------------------------

def audit(cat, paths):
    """{name: [objects importing it]} for the catalogue's names."""
    objs, missing = closure(paths)
    found = {}
    for e in objs:
        for name in e.imports & cat.keys():
            found.setdefault(name, []).append(os.path.basename(e.path))
    return found, missing


def summary(cat, names):
    counts = {}
    for n in names:
        k = kind(cat[n]["state"])
        counts[k] = counts.get(k, 0) + 1
    return ("%d blocking functions imported: %d green, %d pool, %d plain by design, "
            "%d pending, %d NOT HANDLED" % (len(names), counts.get("green", 0),
                                           counts.get("pool", 0), counts.get("plain", 0),
                                           counts.get("pending", 0), counts.get("unhandled", 0)))


def sort_key(cat, n):
    return (ORDER.index(kind(cat[n]["state"])), n)


def one(cat, paths):
    found, missing = audit(cat, paths)
    for n in missing:
        print("warning: %s not found (its imports are not audited)" % n, file=sys.stderr)
    width = max([len(n) for n in found] + [4])
    for n in sorted(found, key=lambda n: sort_key(cat, n)):
        c = cat[n]
        print("%-16s %-*s %s%s" % (label(c["state"]), width, n, c["note"],
                                   "" if len(paths) == 1 and len(found[n]) == 1 and
                                   found[n][0] == os.path.basename(paths[0])
                                   else "  [" + ", ".join(sorted(set(found[n]))) + "]"))
    print(summary(cat, found))
    return 1 if any(cat[n]["state"] == "unhandled" for n in found) else 0


def many(cat, files):
    union, bad, pending, audited = {}, 0, {}, 0
    for f in files:
        try:
            found, _ = audit(cat, [f])
        except (OSError, ValueError, struct.error):
            continue  # not an ELF file (a script), or unreadable
        audited += 1
        for n, objs in found.items():
            union.setdefault(n, set()).add(f)
        gaps = sorted(n for n in found if cat[n]["state"] == "unhandled")
        pend = sorted(n for n in found if kind(cat[n]["state"]) == "pending")
        if gaps:
            bad += 1
            print("NOT HANDLED in %s: %s" % (f, " ".join(gaps)))
        for n in pend:
            pending.setdefault(n, set()).add(f)
    for n in sorted(pending):
        print("%s %s: %d files (%s%s)" % (label(cat[n]["state"]), n, len(pending[n]),
                                         " ".join(sorted(os.path.basename(p) for p in pending[n])[:5]),
                                         " ..." if len(pending[n]) > 5 else ""))
    print("%d ELF files audited; %s" % (audited, summary(cat, union)))
    return 1 if bad else 0


# ---- the README's table -------------------------------------------------

BEGIN = "<!-- catalogue: generated by scripts/greenify-audit.py --readme; do not edit -->"
END = "<!-- end of catalogue -->"


def readme(cat):
    fams = {}
    for n, c in cat.items():
        fams.setdefault(c["family"], {}).setdefault(kind(c["state"]), []).append(n)
    lines = [BEGIN, "", "| family | green | pool (worker threads) | plain by design | pending, not handled |",
             "|---|---|---|---|---|"]
    # Plain calls are many and say why in the catalogue: counted here.

    def cell(names):
        return ", ".join("`%s`" % n for n in sorted(names)) if names else ""

    for f in sorted(fams):
        k = fams[f]
        rest = sorted(k.get("pending", []) + k.get("unhandled", []))
        rest_cell = ", ".join("`%s` (%s)" % (n, label(cat[n]["state"])) for n in rest)
        plain = len(k.get("plain", []))
        lines.append("| %s | %s | %s | %s | %s |" % (f, cell(k.get("green")), cell(k.get("pool")),
                                                    "%d" % plain if plain else "", rest_cell))
    lines += ["", END]
    return "\n".join(lines)


def check_readme(cat, path):
    text = open(path).read()
    if BEGIN not in text or END not in text:
        print("%s: no catalogue table (%s ... %s)" % (path, BEGIN, END))
        return 1
    have = text[text.index(BEGIN):text.index(END) + len(END)]
    want = readme(cat)
    if have == want:
        return 0
    sys.stdout.writelines(difflib.unified_diff(have.splitlines(True), (want + "\n").splitlines(True),
                                               "README.md", "catalogue"))
    return 1


def main(argv):
    here = os.path.dirname(os.path.realpath(__file__))
    catpath = None
    if len(argv) >= 2 and argv[0] == "--catalogue":
        catpath, argv = argv[1], argv[2:]
    if catpath is None:
        for c in (os.path.join(here, "catalogue.tsv"), os.path.join(here, "../preload/catalogue.tsv"),
                  os.path.join(here, "../share/greenify/catalogue.tsv")):
            if os.path.exists(c):
                catpath = c
                break
    if catpath is None:
        sys.exit("greenify-audit: cannot find catalogue.tsv")
    cat = load_catalogue(catpath)
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if argv else 2
    if argv[0] == "--readme":
        print(readme(cat))
        return 0
    if argv[0] == "--check-readme":
        return check_readme(cat, argv[1])
    if argv[0] == "--many":
        return many(cat, argv[1:])
    try:
        return one(cat, argv)
    except (OSError, ValueError, struct.error) as e:
        print("greenify-audit: %s: %s" % (argv[0], e), file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
