/*
 * Demo stand-in for Alluxio 1.x, written for alluxio-reconcile (none of Alluxio's code).
 */
package alluxio.cli;

/**
 * {@code alluxio fs}: the demo release has no file system behind its master, so its shell only
 * prints its usage (no command) or says so (any command), and exits -1.
 */
public final class AlluxioShell {
  private AlluxioShell() {}

  public static void main(String[] args) {
    if (args.length == 0) {
      System.out.println("Usage: java AlluxioShell");
      System.out.println("       [cat <path>] [ls <path>] [mkdir <path>] [mount <path> <uri>] ...");
      System.out.println("(the demo release's shell reaches no file system)");
    } else {
      System.out.println(args[0] + ": the demo release's shell reaches no file system");
    }
    System.exit(-1);
  }
}
