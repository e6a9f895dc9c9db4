// JIT-heavy single thread (issue 14): hot loops that the JIT compiler
// threads must compile for the program to be fast. Prints the elapsed ms.
public class Jit {
    static long collatz(long n) {
        long steps = 0;
        while (n != 1) {
            n = (n & 1) == 0 ? n >> 1 : 3 * n + 1;
            steps++;
        }
        return steps;
    }

    static double series(int n) {
        double s = 0;
        for (int i = 1; i <= n; i++)
            s += (i % 2 == 0 ? -1.0 : 1.0) / (2 * i - 1);
        return s;
    }

    public static void main(String[] a) {
        long t0 = System.nanoTime();
        long sum = 0;
        for (int r = 0; r < 3; r++) {
            for (long i = 1; i < 1_500_000; i++)
                sum += collatz(i);
            sum += (long) (series(20_000_000) * 1000);
        }
        System.out.println("jit sum=" + sum + " ms=" + (System.nanoTime() - t0) / 1_000_000);
    }
}
