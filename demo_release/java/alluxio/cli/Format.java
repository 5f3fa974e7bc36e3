/*
 * Demo stand-in for Alluxio 1.x, written for alluxio-reconcile (none of Alluxio's code).
 */
package alluxio.cli;

import alluxio.demo.Conf;
import alluxio.demo.Log;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * {@code Format master}: empties the journal folder (creating it if needed), makes a folder per
 * master in it and writes the marker {@code _format_<epoch-ms>}. {@code Format worker}: empties
 * the block folder under each tier path. Exits 0 on success, -1 on a detected failure; details
 * go to the log only.
 */
public final class Format {
  private Format() {}

  public static void main(String[] args) {
    Conf conf = Conf.load();
    Log log = Log.open(conf, "Format");
    if (args.length != 1 || !(args[0].equalsIgnoreCase("master") || args[0].equalsIgnoreCase("worker"))) {
      System.out.println("java -cp alluxio-" + conf.version()
          + "-jar-with-dependencies.jar alluxio.cli.Format <MASTER/WORKER>");
      System.exit(-1);
    }
    try {
      if (args[0].equalsIgnoreCase("master")) {
        formatMaster(conf, log);
      } else {
        formatWorker(conf, log);
      }
    } catch (IOException e) {
      log.error("Failed to format " + args[0], e);
      System.exit(-1);
    }
    System.exit(0);
  }

  private static void formatMaster(Conf conf, Log log) throws IOException {
    Path journal = Path.of(conf.get("alluxio.master.journal.folder"));
    log.info("Formatting master journal: " + journal);
    if (Files.isDirectory(journal)) {
      deleteChildren(journal);
    } else {
      Files.createDirectories(journal);
    }
    String[] masters = conf.get("alluxio.keyvalue.enabled").equals("true")
        ? new String[] {"BlockMaster", "FileSystemMaster", "LineageMaster", "KeyValueMaster"}
        : new String[] {"BlockMaster", "FileSystemMaster", "LineageMaster"};
    for (String master : masters) {
      Files.createDirectories(journal.resolve(master));
    }
    Files.createFile(journal.resolve(conf.get("alluxio.master.format.file_prefix")
        + System.currentTimeMillis()));
  }

  /** Every folder of every tier, as 1.x's formatWorker empties them. */
  private static void formatWorker(Conf conf, Log log) throws IOException {
    int levels = conf.getInt("alluxio.worker.tieredstore.levels");
    for (int level = 0; level < levels; level++) {
      String paths = conf.get("alluxio.worker.tieredstore.level" + level + ".dirs.path");
      for (String tier : paths.split(",")) {
        File blocks = new File(tier.trim(), conf.get("alluxio.worker.data.folder"));
        log.info("Formatting worker storage: " + blocks);
        if (blocks.isDirectory()) {
          deleteChildren(blocks.toPath());
        }
      }
    }
  }

  private static void deleteChildren(Path folder) throws IOException {
    try (Stream<Path> all = Files.walk(folder)) {
      for (Path p : (Iterable<Path>) all.sorted(Comparator.reverseOrder())::iterator) {
        if (!p.equals(folder)) {
          Files.delete(p);
        }
      }
    }
  }
}
