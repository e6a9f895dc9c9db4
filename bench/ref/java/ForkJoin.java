// Parallel, allocation-heavy (issue 14): the ForkJoin common pool sorts and
// maps lists of boxed values; G1 collects. Prints the elapsed ms.
import java.util.*;
import java.util.stream.*;

public class ForkJoin {
    public static void main(String[] a) {
        long t0 = System.nanoTime();
        long total = 0;
        for (int r = 0; r < 6; r++) {
            List<Integer> l = IntStream.range(0, 400_000).parallel().boxed()
                .map(i -> (i * 7919) % 100_003).collect(Collectors.toList());
            total += l.parallelStream().sorted().mapToLong(i -> i).sum();
            Map<Integer, Long> m = l.parallelStream()
                .collect(Collectors.groupingByConcurrent(i -> i % 97, Collectors.counting()));
            total += m.size();
        }
        System.out.println("forkjoin total=" + total + " ms=" + (System.nanoTime() - t0) / 1_000_000);
    }
}
