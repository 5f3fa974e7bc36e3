/*
 * Demo stand-in for Alluxio 1.x, written for alluxio-reconcile (none of Alluxio's code).
 */
package alluxio.worker;

import alluxio.demo.Conf;
import alluxio.demo.LeaderLookup;
import alluxio.demo.Log;
import com.sun.net.httpserver.HttpServer;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A worker: keeps its block folder under the RAM folder, listens on its RPC, data and web
 * ports, registers with the master of alluxio.master.hostname (this host when unset) and
 * sends it a heartbeat every alluxio.worker.block.heartbeat.interval.ms. Its storage is the
 * tiers of alluxio.worker.tieredstore.* (levels, each level's alias, folders and quotas), and it
 * reports each tier's capacity and use when it registers. As in 1.x (section 11 of the
 * interface reference): on start it adopts every block file of its storage folders
 * (files named by a block id; anything else there is deleted) and reports their bytes as used;
 * it retries its registration alluxio.master.retry times, backing off up to a second, then
 * exits; once registered, a worker that cannot reach its master for
 * alluxio.worker.block.heartbeat.timeout.ms stops sending heartbeats for good but keeps running.
 */
public final class AlluxioWorker {
  static final String START_SETTING = "/etc/alluxio-demo/worker-start-seconds";
  private final Conf mConf;
  private final Log mLog;
  private String mMaster;  // the master it talks to: of its conf, or the leader ZooKeeper names
  private int mMasterPort;
  private final String mHost;
  private final List<Tier> mTiers = new ArrayList<>();
  private final boolean mFaultTolerant;
  private long mId = -1;
  private Socket mSocket;
  private BufferedReader mIn;
  private PrintWriter mOut;

  private AlluxioWorker(Conf conf) {
    mConf = conf;
    mLog = Log.open(conf, "AlluxioWorker");
    conf.validate(mLog);
    mMaster = conf.isSet("alluxio.master.hostname") ? conf.get("alluxio.master.hostname")
        : Conf.localHostName();
    mMasterPort = conf.getInt("alluxio.master.port");
    mFaultTolerant = conf.get("alluxio.zookeeper.enabled").equals("true");
    // 1.x: alluxio.worker.hostname, else a bind host that is not the wildcard, else the name
    String bind = conf.get("alluxio.worker.bind.host");
    mHost = conf.isSet("alluxio.worker.hostname") && !conf.get("alluxio.worker.hostname").equals("0.0.0.0")
        ? conf.get("alluxio.worker.hostname")
        : bind != null && !bind.isEmpty() && !bind.equals("0.0.0.0") ? bind : Conf.localHostName();
    // 1.x StorageTier: level{N}.dirs.path and .dirs.quota split on commas; a folder past the
    // last quota gets the last quota
    int levels = conf.getInt("alluxio.worker.tieredstore.levels");
    for (int level = 0; level < levels; level++) {
      String prefix = "alluxio.worker.tieredstore.level" + level;
      String[] paths = conf.get(prefix + ".dirs.path").split(",");
      String[] quotas = conf.get(prefix + ".dirs.quota").split(",");
      Tier tier = new Tier(conf.get(prefix + ".alias"));
      for (int i = 0; i < paths.length; i++) {
        long quota = Conf.parseBytes(quotas[Math.min(i, quotas.length - 1)]);  // not trimmed, as in 1.x
        tier.mDirs.add(new File(paths[i].trim(), conf.get("alluxio.worker.data.folder")));
        tier.mQuotas.add(quota);
        tier.mCapacity += quota;
      }
      mTiers.add(tier);
    }
  }

  /** One storage tier: its alias, folders and bytes. */
  private static final class Tier {
    final String mAlias;
    final List<File> mDirs = new ArrayList<>();
    final List<Long> mQuotas = new ArrayList<>();
    long mCapacity;
    long mUsed;

    Tier(String alias) {
      mAlias = alias;
    }
  }

  private long capacity() {
    return mTiers.stream().mapToLong(t -> t.mCapacity).sum();
  }

  private long used() {
    return mTiers.stream().mapToLong(t -> t.mUsed).sum();
  }

  /** Each tier as ALIAS:CAPACITY:USED, comma-separated, top tier first. */
  private String tiers() {
    StringBuilder out = new StringBuilder();
    for (Tier t : mTiers) {
      out.append(out.length() == 0 ? "" : ",").append(t.mAlias).append(':').append(t.mCapacity)
          .append(':').append(t.mUsed);
    }
    return out.toString();
  }

  public static void main(String[] args) throws Exception {
    new AlluxioWorker(Conf.load()).run();
  }

  private void run() throws Exception {
    try {
      for (Tier tier : mTiers) {
        for (int i = 0; i < tier.mDirs.size(); i++) {
          tier.mUsed += adoptBlocks(tier.mDirs.get(i), tier.mQuotas.get(i), tier.mAlias);
        }
      }
    } catch (IOException e) {  // 1.x: the block store's construction fails, and the worker exits
      mLog.error("Failed to initialize alluxio.worker.AlluxioWorker", e);
      System.exit(-1);
    }
    listen("alluxio.worker.bind.host", "alluxio.worker.port");
    listen("alluxio.worker.data.bind.host", "alluxio.worker.data.port");
    HttpServer web = HttpServer.create(new InetSocketAddress(mConf.get("alluxio.worker.web.bind.host"),
        mConf.getInt("alluxio.worker.web.port")), 10);
    web.createContext("/", exchange -> {
      byte[] body = ("<!DOCTYPE html><html><head><title>Alluxio Worker</title></head><body>"
          + "<h1>Alluxio Worker " + mHost + "</h1><p>Master: " + mMaster + "</p></body></html>")
          .getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(200, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    });
    web.start();
    mLog.info("Alluxio worker version " + mConf.version() + " started @ " + mHost + ":"
        + mConf.getInt("alluxio.worker.port"));
    try {
      startSlowly();
      registerWithRetries();
    } catch (IOException e) {
      mLog.error("Uncaught exception while running Alluxio worker, stopping it and exiting.", e);
      System.exit(-1);
    }
    heartbeat();
  }

  /**
   * The bytes of the block files in {@code folder}, created if missing; other entries go. As
   * 1.x's StorageDir: blocks beyond the folder's quota fail the start.
   */
  private long adoptBlocks(File folder, long quota, String alias) throws IOException {
    if (!folder.isDirectory() && !folder.mkdirs()) {
      throw new IOException("Failed to create folder " + folder);
    }
    long bytes = 0;
    File[] entries = folder.listFiles();
    for (File entry : entries == null ? new File[0] : entries) {
      if (entry.isFile() && entry.getName().matches("-?[0-9]+")) {
        if (quota - bytes < entry.length()) {
          throw new IOException("blockId " + entry.getName() + " is " + entry.length()
              + " bytes, but only " + (quota - bytes) + " bytes available in " + alias);
        }
        bytes += entry.length();
      } else {
        delete(entry);
      }
    }
    mLog.info("Adopted the blocks of " + folder + ": " + bytes + " bytes");
    return bytes;
  }

  private static void delete(File entry) {
    File[] children = entry.listFiles();
    for (File child : children == null ? new File[0] : children) {
      delete(child);
    }
    entry.delete();
  }

  /**
   * A real worker takes seconds from its JVM's start to its registration on a loaded host or
   * with a large cache to scan. The lab sets how long this one takes in START_SETTING (none: no
   * wait): a setting of the lab, not of the release.
   */
  private void startSlowly() throws InterruptedException, IOException {
    Path setting = Path.of(START_SETTING);
    if (Files.isRegularFile(setting)) {
      long seconds = Long.parseLong(Files.readString(setting).trim());
      mLog.info("Starting slowly (" + seconds + " s, set by the lab in " + START_SETTING + ")");
      Thread.sleep(seconds * 1000);
    }
  }

  private void registerWithRetries() throws IOException, InterruptedException {
    int retries = mConf.getInt("alluxio.master.retry");
    long sleep = 50;
    for (int attempt = 0; ; attempt++) {
      try {
        register();
        return;
      } catch (IOException e) {
        disconnect();
        if (attempt >= retries) {
          throw new IOException("Failed to connect to the master " + mMaster + ":" + mMasterPort
              + " after " + (attempt + 1) + " attempts", e);
        }
        mLog.warn("Failed to register with the master " + mMaster + ":" + mMasterPort + " (attempt "
            + (attempt + 1) + "): " + e.getMessage());
      }
      Thread.sleep(sleep);
      sleep = Math.min(sleep * 2, 1000);
    }
  }

  private void listen(String hostKey, String portKey) throws IOException {
    ServerSocket server = new ServerSocket();
    server.setReuseAddress(true);
    server.bind(new InetSocketAddress(mConf.get(hostKey), mConf.getInt(portKey)));
    Thread thread = new Thread(() -> {
      while (true) {
        try (Socket ignored = server.accept()) {
          // the demo's data plane: connections are accepted and closed
        } catch (IOException e) {
          return;
        }
      }
    }, portKey);
    thread.setDaemon(true);
    thread.start();
  }

  private String call(String request) throws IOException {
    if (mSocket == null) {
      if (mFaultTolerant) {  // as 1.x's master clients: the leader ZooKeeper names, at each connect
        String leader = LeaderLookup.of(mConf, mLog).leader();
        if (leader == null) {
          throw new IOException("no leading master is recorded in ZooKeeper");
        }
        mMaster = leader.substring(0, leader.lastIndexOf(':'));
        mMasterPort = Integer.parseInt(leader.substring(leader.lastIndexOf(':') + 1));
      }
      mSocket = new Socket();
      mSocket.connect(new InetSocketAddress(mMaster, mMasterPort), 5000);
      mSocket.setSoTimeout(5000);
      mIn = new BufferedReader(new InputStreamReader(mSocket.getInputStream(), StandardCharsets.UTF_8));
      mOut = new PrintWriter(mSocket.getOutputStream(), true, StandardCharsets.UTF_8);
    }
    mOut.println(request);
    String reply = mIn.readLine();
    if (reply == null) {
      throw new IOException("the master closed the connection");
    }
    return reply;
  }

  private void disconnect() {
    try {
      if (mSocket != null) {
        mSocket.close();
      }
    } catch (IOException e) {
      // closing anyway
    }
    mSocket = null;
  }

  private void register() throws IOException {
    String reply = call("REGISTER " + mHost + " " + mConf.getInt("alluxio.worker.port") + " "
        + mConf.getInt("alluxio.worker.data.port") + " " + mConf.getInt("alluxio.worker.web.port")
        + " " + capacity() + " " + used() + " " + tiers());
    mId = Long.parseLong(reply.substring("ID ".length()).trim());
    mLog.info("Registered with the master " + mMaster + ":" + mMasterPort + " as worker " + mId);
  }

  private void heartbeat() throws InterruptedException {
    long interval = mConf.getLong("alluxio.worker.block.heartbeat.interval.ms");
    long timeout = mConf.getLong("alluxio.worker.block.heartbeat.timeout.ms");
    long lastSuccess = System.currentTimeMillis();
    while (true) {
      try {
        if (mId < 0) {
          register();
        }
        if (call("HEARTBEAT " + mId + " " + used()).equals("REGISTER")) {
          register();
        }
        lastSuccess = System.currentTimeMillis();
      } catch (IOException | RuntimeException e) {
        mLog.error("Failed to receive master heartbeat command.", e);
        disconnect();
        if (System.currentTimeMillis() - lastSuccess >= timeout) {
          mLog.error("Uncaught exception in heartbeat executor, Heartbeat Thread shutting down",
              new RuntimeException("Master heartbeat timeout exceeded: " + timeout));
          Thread.currentThread().join();  // the process lives on, silent
        }
      }
      Thread.sleep(interval);
    }
  }
}
