/*
 * Demo stand-in for Alluxio 1.x, written for alluxio-reconcile (none of Alluxio's code).
 */
package alluxio.cli;

import alluxio.demo.Conf;

/** Prints the release: {@code Alluxio version: 1.2.0} in 1.2.0, the bare number later. */
public final class Version {
  private Version() {}

  public static void main(String[] args) {
    Conf conf = Conf.load();
    System.out.println(conf.isVersion("1.2") ? "Alluxio version: " + conf.version() : conf.version());
  }
}
