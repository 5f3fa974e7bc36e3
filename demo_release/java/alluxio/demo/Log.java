/*
 * Demo stand-in for Alluxio 1.x, written for alluxio-reconcile (none of Alluxio's code).
 */
package alluxio.demo;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.SimpleDateFormat;
import java.util.Date;

/**
 * The process's log, where the release's log4j.properties sends it: by -Dalluxio.logger.type,
 * master.log, worker.log or user_NAME.log in alluxio.logs.dir, otherwise the console.
 * Lines look like log4j's: {@code 2016-07-21 10:00:00,123 INFO  AlluxioMaster - message}.
 */
public final class Log {
  private final PrintStream mOut;
  private final String mName;

  private Log(PrintStream out, String name) {
    mOut = out;
    mName = name;
  }

  /** The log of this process, for messages of class {@code name}. */
  public static Log open(Conf conf, String name) {
    String type = conf.get("alluxio.logger.type");
    String file = switch (type == null ? "" : type) {
      case "MASTER_LOGGER" -> "master.log";
      case "WORKER_LOGGER" -> "worker.log";
      case "USER_LOGGER" -> "user_" + System.getProperty("user.name") + ".log";
      default -> null;
    };
    if (file == null) {
      return new Log(System.out, name);
    }
    try {
      Path dir = Path.of(conf.get("alluxio.logs.dir"));
      Files.createDirectories(dir);
      PrintStream out = new PrintStream(
          new FileOutputStream(dir.resolve(file).toFile(), true), true, StandardCharsets.UTF_8);
      return new Log(out, name);
    } catch (IOException e) {
      return new Log(System.err, name);
    }
  }

  public Log named(String name) {
    return new Log(mOut, name);
  }

  public void info(String message) {
    write("INFO ", message, null);
  }

  public void warn(String message) {
    write("WARN ", message, null);
  }

  public void error(String message) {
    write("ERROR", message, null);
  }

  public void error(String message, Throwable cause) {
    write("ERROR", message, cause);
  }

  private synchronized void write(String level, String message, Throwable cause) {
    String when = new SimpleDateFormat("yyyy-MM-dd HH:mm:ss,SSS").format(new Date());
    mOut.println(when + " " + level + " " + mName + " - " + message);
    if (cause != null) {
      cause.printStackTrace(mOut);
    }
    mOut.flush();
  }
}
