/*
 * Demo stand-in for Alluxio 1.x, written for alluxio-reconcile (none of Alluxio's code).
 */
package alluxio.master;

import alluxio.demo.Conf;
import alluxio.demo.Election;
import alluxio.demo.Json;
import alluxio.demo.Log;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Executors;

/**
 * The master: refuses an unformatted journal, takes worker registrations and heartbeats on its
 * RPC port, forgets a worker silent for alluxio.master.worker.timeout.ms, and serves the web UI
 * and the REST API on its web port. Only the outside is the release's: the RPC protocol between
 * the stand-in master and workers is the demo's own.
 */
public final class AlluxioMaster {
  static final String REPLAY_SETTING = "/etc/alluxio-demo/journal-replay-seconds";
  private final Conf mConf;
  private final Log mLog;
  private long mStartTimeMs = System.currentTimeMillis();  // when it began to serve
  private final Map<String, Worker> mLive = new LinkedHashMap<>();
  private final Map<String, Worker> mLost = new LinkedHashMap<>();
  private long mNextId = 1;
  private String mRestPrefix;

  /** One worker as the master knows it, keyed by its full address. */
  static final class Worker {
    long mId;
    String mHost;
    int mRpcPort;
    int mDataPort;
    int mWebPort;
    long mCapacityBytes;
    long mUsedBytes;
    Map<String, long[]> mTiers = new LinkedHashMap<>();  // alias -> {capacity, used}
    long mStartTimeMs;
    long mLastContactMs;

    String key() {
      return mHost + ":" + mRpcPort + ":" + mDataPort + ":" + mWebPort;
    }

    @Override
    public String toString() {
      return "WorkerNetAddress{host=" + mHost + ", rpcPort=" + mRpcPort + ", dataPort=" + mDataPort
          + ", webPort=" + mWebPort + "}";
    }

    Map<String, Object> info(long now) {
      Map<String, Object> address = new LinkedHashMap<>();
      address.put("host", mHost);
      address.put("rpcPort", mRpcPort);
      address.put("dataPort", mDataPort);
      address.put("webPort", mWebPort);
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("id", mId);
      out.put("address", address);
      out.put("lastContactSec", (int) ((now - mLastContactMs) / 1000));
      out.put("state", "In Service");
      out.put("capacityBytes", mCapacityBytes);
      out.put("usedBytes", mUsedBytes);
      out.put("startTimeMs", mStartTimeMs);
      return out;
    }
  }

  private AlluxioMaster(Conf conf) {
    mConf = conf;
    mLog = Log.open(conf, "AlluxioMaster");
    conf.validate(mLog);
  }

  public static void main(String[] args) throws Exception {
    Conf conf = Conf.load();
    new AlluxioMaster(conf).run();
  }

  private String hostname() {
    return mConf.isSet("alluxio.master.hostname") ? mConf.get("alluxio.master.hostname")
        : Conf.localHostName();
  }

  private void run() throws Exception {
    // bound (and listening) at once, as 1.x's Thrift server socket: served only once it leads
    ServerSocket rpc = new ServerSocket();
    rpc.setReuseAddress(true);
    rpc.bind(new InetSocketAddress(mConf.get("alluxio.master.bind.host"),
        mConf.getInt("alluxio.master.port")));
    checkFormatted();  // every master, standbys too
    if (mConf.get("alluxio.zookeeper.enabled").equals("true")) {
      awaitLeadership();
      serve(rpc, " (gained leadership)");
    } else {
      replayJournal();
      serve(rpc, "");
    }
  }

  /**
   * As 1.2.0's FaultTolerantAlluxioMaster: a standby (its masters started read-only, tailing
   * the journal; no web port, its RPC port not served) until the election makes it leader,
   * then it processes the whole journal and serves. A leader that loses its ZooKeeper session
   * is interrupted, which its serving thread ignores: it goes on serving (1.2.0's serve()
   * blocks in Thrift's accept).
   */
  private void awaitLeadership() throws Exception {
    String id = hostname() + ":" + mConf.getInt("alluxio.master.port");
    Election election = new Election(mConf, id, mLog);
    for (String master : MASTERS) {
      mLog.info(master + ": Starting standby master.");
      mLog.info(master + ": Journal tailer started.");
    }
    election.start(Thread.currentThread());
    while (!election.isLeader()) {
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        // a lost ZooKeeper session interrupts a standby too: it stays one
      }
    }
    for (String master : MASTERS) {
      mLog.info(master + ": Stopping standby master.");
      mLog.info(master + ": Starting leader master.");
      mLog.info(master + ": process entire journal before becoming leader master.");
    }
    replayJournal();
  }

  private static final String[] MASTERS = {"BlockMaster", "FileSystemMaster", "LineageMaster"};

  private void serve(ServerSocket rpc, String why) throws Exception {
    mStartTimeMs = System.currentTimeMillis();
    mRestPrefix = restPrefix();
    HttpServer web = HttpServer.create(new InetSocketAddress(mConf.get("alluxio.master.web.bind.host"),
        mConf.getInt("alluxio.master.web.port")), 50);
    web.createContext("/", this::serveWeb);
    web.setExecutor(Executors.newFixedThreadPool(4, daemon("web")));
    web.start();
    Thread lostDetector = daemon("lost-workers").newThread(this::detectLostWorkers);
    lostDetector.start();
    String host = hostname();
    String ip = InetAddress.getByName(host).getHostAddress();
    mLog.info("Alluxio master version " + mConf.version() + " started @ " + host + "/" + ip + ":"
        + mConf.getInt("alluxio.master.port") + why);
    mLog.info("Alluxio Master Web service started @ " + mConf.get("alluxio.master.web.bind.host")
        + ":" + mConf.getInt("alluxio.master.web.port"));
    while (true) {
      Socket socket;
      try {
        socket = rpc.accept();
      } catch (java.io.InterruptedIOException e) {
        continue;  // an interrupt does not stop a serving master
      }
      Socket accepted = socket;
      daemon("rpc").newThread(() -> serveRpc(accepted)).start();
    }
  }

  private void checkFormatted() {
    String folder = mConf.get("alluxio.master.journal.folder");
    String prefix = mConf.get("alluxio.master.format.file_prefix");
    String[] names = new File(folder).list();
    if (names != null) {
      for (String name : names) {
        if (name.startsWith(prefix)) {
          return;
        }
      }
    }
    String message = "Alluxio master was not formatted! The journal folder is "
        + folder.replaceAll("/+$", "") + "/";
    mLog.error(message);
    throw new IllegalStateException(message);
  }

  /**
   * A real master replays its journal before it serves (seconds to minutes, with the
   * namespace); its RPC port is bound meanwhile, but nothing answers. The lab sets how long
   * this one takes in REPLAY_SETTING (none: no wait): a setting of the lab, not of the release.
   */
  private void replayJournal() throws InterruptedException, IOException {
    Path setting = Path.of(REPLAY_SETTING);
    if (!Files.isRegularFile(setting)) {
      return;
    }
    long seconds = Long.parseLong(Files.readString(setting).trim());
    mLog.info("Replaying the journal (" + seconds + " s, set by the lab in " + REPLAY_SETTING + ")");
    Thread.sleep(seconds * 1000);
  }

  /** 1.2.0 maps its REST API through the web resources; later releases in code. */
  private String restPrefix() {
    if (!mConf.isVersion("1.2")) {
      return "/v1/api/";
    }
    Path mapping = Path.of(mConf.get("alluxio.web.resources"), "WEB-INF", "master.xml");
    if (!Files.isRegularFile(mapping)) {
      mLog.error("No REST mapping at " + mapping + ": the REST API is not served");
      return null;
    }
    return "/v1/api/";
  }

  private static java.util.concurrent.ThreadFactory daemon(String name) {
    return runnable -> {
      Thread thread = new Thread(runnable, name);
      thread.setDaemon(true);
      return thread;
    };
  }

  // ----- workers ---------------------------------------------------------------------------
  private void serveRpc(Socket socket) {
    try (socket;
        BufferedReader in = new BufferedReader(
            new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
        PrintWriter out = new PrintWriter(socket.getOutputStream(), true, StandardCharsets.UTF_8)) {
      String line;
      while ((line = in.readLine()) != null) {
        String[] words = line.trim().split(" ");
        if (words[0].equals("REGISTER") && words.length == 8) {
          out.println("ID " + register(words));
        } else if (words[0].equals("HEARTBEAT") && words.length == 3) {
          out.println(heartbeat(Long.parseLong(words[1]), Long.parseLong(words[2])));
        } else {
          out.println("UNKNOWN");
        }
      }
    } catch (IOException | RuntimeException e) {
      // a worker that hangs up or talks nonsense is its own problem
    }
  }

  private synchronized long register(String[] words) {
    Worker w = new Worker();
    w.mHost = words[1];
    w.mRpcPort = Integer.parseInt(words[2]);
    w.mDataPort = Integer.parseInt(words[3]);
    w.mWebPort = Integer.parseInt(words[4]);
    w.mCapacityBytes = Long.parseLong(words[5]);
    w.mUsedBytes = Long.parseLong(words[6]);
    for (String tier : words[7].split(",")) {
      String[] parts = tier.split(":");
      w.mTiers.put(parts[0], new long[] {Long.parseLong(parts[1]), Long.parseLong(parts[2])});
    }
    long now = System.currentTimeMillis();
    Worker known = mLive.get(w.key());
    if (known != null) {
      mLog.warn("The worker " + known + " already exists as id " + known.mId + ".");
    } else if ((known = mLost.remove(w.key())) != null) {
      mLog.warn("A lost worker " + known + " has requested its old id " + known.mId + ".");
      mLive.put(known.key(), known);
    } else {
      w.mId = mNextId++;  // sequential from 1, as in 1.2 and 1.3
      w.mStartTimeMs = now;
      mLive.put(w.key(), w);
      known = w;
      mLog.info("registerWorker(): " + w);
    }
    known.mCapacityBytes = w.mCapacityBytes;
    known.mUsedBytes = w.mUsedBytes;
    known.mTiers = w.mTiers;
    known.mLastContactMs = now;
    return known.mId;
  }

  private synchronized String heartbeat(long id, long usedBytes) {
    for (Worker w : mLive.values()) {
      if (w.mId == id) {
        w.mLastContactMs = System.currentTimeMillis();
        w.mUsedBytes = usedBytes;
        return "NOTHING";
      }
    }
    mLog.warn("Could not find worker id: " + id + " for heartbeat.");
    return "REGISTER";
  }

  private void detectLostWorkers() {
    long interval = mConf.getLong("alluxio.master.heartbeat.interval.ms");
    long timeout = mConf.getLong("alluxio.master.worker.timeout.ms");
    while (true) {
      try {
        Thread.sleep(interval);
      } catch (InterruptedException e) {
        return;
      }
      synchronized (this) {
        long now = System.currentTimeMillis();
        for (Worker w : new ArrayList<>(mLive.values())) {
          if (now - w.mLastContactMs > timeout) {
            mLog.error("The worker " + w + " timed out after " + (now - w.mLastContactMs)
                + "ms without a heartbeat!");
            mLive.remove(w.key());
            mLost.put(w.key(), w);
          }
        }
      }
    }
  }

  // ----- the web port ----------------------------------------------------------------------
  private void serveWeb(HttpExchange exchange) throws IOException {
    try (exchange) {
      String path = exchange.getRequestURI().getPath();
      if (!exchange.getRequestMethod().equals("GET")) {
        reply(exchange, 405, "text/plain", "Method Not Allowed");
      } else if (mRestPrefix != null && path.startsWith(mRestPrefix)) {
        Object value = rest(path.substring(mRestPrefix.length()));
        if (value == null) {
          reply(exchange, 404, "text/plain", "Not Found");
        } else {
          reply(exchange, 200, "application/json", Json.write(value));
        }
      } else if (path.equals("/") || path.equals("/index.html")) {
        Path index = Path.of(mConf.get("alluxio.web.resources"), "index.html");
        if (Files.isRegularFile(index)) {
          reply(exchange, 200, "text/html", Files.readString(index));
        } else {
          reply(exchange, 404, "text/plain", "Not Found");
        }
      } else if (path.equals("/home")) {
        reply(exchange, 200, "text/html", home());
      } else if (path.equals("/workers")) {
        reply(exchange, 200, "text/html", workers());
      } else {
        reply(exchange, 404, "text/plain", "Not Found");
      }
    }
  }

  private static void reply(HttpExchange exchange, int code, String type, String body)
      throws IOException {
    byte[] data = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", type);
    exchange.sendResponseHeaders(code, data.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(data);
    }
  }

  private synchronized Object rest(String call) {
    long now = System.currentTimeMillis();
    long capacity = 0;
    long used = 0;
    for (Worker w : mLive.values()) {
      capacity += w.mCapacityBytes;
      used += w.mUsedBytes;
    }
    return switch (call) {
      case "master/worker_count" -> mLive.size();
      case "master/worker_info_list" -> {
        List<Object> infos = new ArrayList<>();
        for (Worker w : mLive.values()) {
          infos.add(w.info(now));
        }
        yield infos;
      }
      case "master/rpc_address" -> hostname() + ":" + mConf.getInt("alluxio.master.port");
      case "master/configuration" -> mConf.all();
      case "master/capacity_bytes" -> capacity;
      case "master/used_bytes" -> used;
      case "master/free_bytes" -> capacity - used;
      case "master/capacity_bytes_on_tiers" -> onTiers(0);
      case "master/used_bytes_on_tiers" -> onTiers(1);
      case "master/ufs_capacity_bytes", "master/ufs_used_bytes", "master/ufs_free_bytes" -> -1L;
      case "master/metrics" -> Map.of();
      case "master/start_time_ms" -> mStartTimeMs;
      case "master/uptime_ms" -> now - mStartTimeMs;
      case "master/version" -> mConf.version();
      default -> null;
    };
  }

  /**
   * Capacity (0) or use (1) per alias the live workers report, in the master's order of tiers
   * (1.2.0 BlockMaster.getTotalBytesOnTiers, sorted by MasterStorageTierAssoc's ordinals: an
   * alias outside that order has none, and the call fails, as 1.2.0's unboxing of null does).
   */
  private synchronized Map<String, Long> onTiers(int which) {
    Map<String, Integer> ordinal = new HashMap<>();
    int levels = mConf.getInt("alluxio.master.tieredstore.global.levels");
    for (int level = 0; level < levels; level++) {
      ordinal.put(mConf.get("alluxio.master.tieredstore.global.level" + level + ".alias"), level);
    }
    Map<String, Long> out = new TreeMap<>((a, b) -> Integer.compare(ordinal.get(a), ordinal.get(b)));
    for (Worker w : mLive.values()) {
      for (Map.Entry<String, long[]> tier : w.mTiers.entrySet()) {
        out.merge(tier.getKey(), tier.getValue()[which], Long::sum);
      }
    }
    return out;
  }

  private static String page(String title, String body) {
    return "<!DOCTYPE html><html><head><title>" + title + "</title></head><body>"
        + "<p>Demo stand-in for Alluxio (alluxio-reconcile)</p>" + body + "</body></html>";
  }

  private synchronized String home() {
    long capacity = 0;
    long used = 0;
    for (Worker w : mLive.values()) {
      capacity += w.mCapacityBytes;
      used += w.mUsedBytes;
    }
    long uptime = (System.currentTimeMillis() - mStartTimeMs) / 1000;
    return page("Alluxio Master", "<h1>Alluxio Summary</h1><table>"
        + row("Master Address:", hostname() + ":" + mConf.getInt("alluxio.master.port"))
        + row("Started:", new java.util.Date(mStartTimeMs).toString())
        + row("Uptime:", uptime / 86400 + " day(s), " + uptime % 86400 / 3600 + " hour(s), "
            + uptime % 3600 / 60 + " minute(s), and " + uptime % 60 + " second(s)")
        + row("Version:", mConf.version())
        + row("Running Workers:", String.valueOf(mLive.size()))
        + row("Workers Capacity:", capacity + " B")
        + row("Workers Free / Used:", (capacity - used) + " B / " + used + " B")
        + row("UnderFS Capacity:", "UNKNOWN")
        + row("UnderFS Free / Used:", "UNKNOWN / UNKNOWN")
        + "</table><h2>Storage Usage Summary</h2><table><tr><th>Storage Alias</th>"
        + "<th>Space Capacity</th><th>Space Used</th><th>Space Usage</th></tr>"
        + tierRows() + "</table>");
  }

  private String tierRows() {
    Map<String, Long> capacity = onTiers(0);
    Map<String, Long> used = onTiers(1);
    StringBuilder rows = new StringBuilder();
    for (Map.Entry<String, Long> tier : capacity.entrySet()) {
      long c = tier.getValue();
      long u = used.getOrDefault(tier.getKey(), 0L);
      if (c > 0) {
        rows.append("<tr><td>").append(tier.getKey()).append("</td><td>").append(c).append(" B</td><td>")
            .append(u).append(" B</td><td>").append(100 * u / c).append("%</td></tr>");
      }
    }
    return rows.toString();
  }

  private static String row(String label, String value) {
    return "<tr><th>" + label + "</th><td>" + value + "</td></tr>";
  }

  private synchronized String workers() {
    long now = System.currentTimeMillis();
    StringBuilder live = new StringBuilder("<h2>Live Workers</h2><table><tr><th>Node Name</th>"
        + "<th>Last Heartbeat</th><th>State</th><th>Workers Capacity</th><th>Space Used</th>"
        + "<th>Space Usage</th></tr>");
    for (Worker w : mLive.values()) {
      live.append("<tr><td><a href=\"http://").append(w.mHost).append(':').append(w.mWebPort)
          .append("\">").append(w.mHost).append("</a></td><td>")
          .append((now - w.mLastContactMs) / 1000).append("</td><td>In Service</td><td>")
          .append(w.mCapacityBytes).append(" B</td><td>").append(w.mUsedBytes).append(" B</td><td>")
          .append(w.mCapacityBytes == 0 ? 0 : 100 * w.mUsedBytes / w.mCapacityBytes)
          .append("%</td></tr>");
    }
    StringBuilder lost = new StringBuilder("</table><h2>Lost Workers</h2><table><tr>"
        + "<th>Node Name</th><th>Last Heartbeat</th><th>Workers Capacity</th></tr>");
    for (Worker w : mLost.values()) {
      lost.append("<tr><td>").append(w.mHost).append("</td><td>")
          .append((now - w.mLastContactMs) / 1000).append("</td><td>").append(w.mCapacityBytes)
          .append(" B</td></tr>");
    }
    return page("Workers", live.toString() + lost + "</table>");
  }
}
