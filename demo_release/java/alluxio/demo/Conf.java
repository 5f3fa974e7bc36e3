/*
 * Demo stand-in for Alluxio 1.x, written for alluxio-reconcile (none of Alluxio's code).
 */
package alluxio.demo;

import java.io.IOException;
import java.io.InputStream;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The configuration of one process, resolved as the release resolves it: built-in defaults,
 * then the first alluxio-site.properties found along alluxio.site.conf.dir and then the class
 * path, then the JVM's -D system properties. Values may refer to other keys as ${key}. As at
 * both tags: the search path is the raw default "${user.home}/.alluxio/,/etc/alluxio/", its
 * reference never substituted (so ~/.alluxio/ is not searched); values are not trimmed; 1.2.0
 * refuses to run with an alluxio.* key it does not know (validateConf), 1.3.0 drops such keys.
 */
public final class Conf {
  private static final Pattern REFERENCE = Pattern.compile("\\$\\{([^}]+)\\}");
  private final Map<String, String> mValues = new TreeMap<>();
  private final String mVersion;

  private Conf(String version) {
    mVersion = version;
  }

  /** The configuration of this process. */
  public static Conf load() {
    Conf conf = new Conf(readVersion());
    conf.defaults();
    Properties site = siteProperties();
    for (String key : site.stringPropertyNames()) {
      conf.merge(key, site.getProperty(key));
    }
    for (String key : System.getProperties().stringPropertyNames()) {
      if (key.startsWith("alluxio.")) {  // the JVM's own properties: left out of what is shown
        conf.merge(key, System.getProperty(key));
      }
    }
    return conf;
  }

  private final java.util.Set<String> mGiven = new java.util.TreeSet<>();

  private void merge(String key, String value) {
    if (isVersion("1.2") || known(key)) {  // 1.3.0 keeps the keys it knows only
      mValues.put(key, value);
      mGiven.add(key);
    }
  }

  /**
   * Fails (as 1.2.0's ConfigurationUtils.validateConf makes its daemons exit) when an alluxio.*
   * key is one the release does not know.
   */
  public void validate(Log log) {
    boolean valid = true;
    for (String key : mGiven) {
      if (key.startsWith("alluxio.") && !known(key)) {
        log.error("Unsupported or deprecated property " + key);
        valid = false;
      }
    }
    if (!valid) {
      log.error("Invalid configuration found");
      System.exit(-1);
    }
  }

  private static final List<Pattern> KNOWN = knownKeys();

  private static boolean known(String key) {
    for (Pattern p : KNOWN) {
      if (p.matcher(key).matches()) {
        return true;
      }
    }
    return false;
  }

  /** The release's keys, from the list the demo's build puts in its jar ({N}: a level). */
  private static List<Pattern> knownKeys() {
    List<Pattern> out = new ArrayList<>();
    try (InputStream in = Conf.class.getResourceAsStream("/alluxio-demo-keys.txt")) {
      for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
        if (!line.isBlank()) {
          out.add(Pattern.compile(Pattern.quote(line.trim()).replace("{N}", "\\E[0-9]+\\Q")));
        }
      }
    } catch (IOException | NullPointerException e) {
      throw new IllegalStateException("the demo jar has no alluxio-demo-keys.txt", e);
    }
    return out;
  }

  private static String readVersion() {
    Properties props = new Properties();
    try (InputStream in = Conf.class.getResourceAsStream("/alluxio-demo-version.properties")) {
      props.load(in);
    } catch (IOException | NullPointerException e) {
      throw new IllegalStateException("the demo jar has no alluxio-demo-version.properties", e);
    }
    return props.getProperty("version");
  }

  private static Properties siteProperties() {
    Properties props = new Properties();
    String name = "alluxio-site.properties";
    // alluxio.site.conf.dir as both tags read it: raw, its ${user.home} a literal folder name
    Path[] folders = {Path.of("${user.home}/.alluxio/"), Path.of("/etc/alluxio/")};
    try {
      for (Path folder : folders) {
        if (Files.isRegularFile(folder.resolve(name))) {
          try (InputStream in = Files.newInputStream(folder.resolve(name))) {
            props.load(in);
          }
          return props;
        }
      }
      try (InputStream in = ClassLoader.getSystemResourceAsStream(name)) {
        if (in != null) {
          props.load(in);
        }
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot read " + name + ": " + e.getMessage(), e);
    }
    return props;
  }

  private void defaults() {
    boolean v12 = isVersion("1.2");
    put("alluxio.home", "/opt/alluxio");
    put("alluxio.work.dir", "${alluxio.home}");
    put("alluxio.logs.dir", "${alluxio.home}/logs");
    put("alluxio.master.port", "19998");
    put("alluxio.master.web.port", "19999");
    put("alluxio.master.bind.host", "0.0.0.0");
    put("alluxio.master.web.bind.host", "0.0.0.0");
    put("alluxio.master.heartbeat.interval.ms", "1000");
    put("alluxio.master.worker.timeout.ms", "300000");
    put("alluxio.master.format.file_prefix", "_format_");
    put("alluxio.master.retry", "29");
    put("alluxio.master.journal.folder", v12 ? "${alluxio.home}/journal/" : "${alluxio.work.dir}/journal");
    put("alluxio.underfs.address",
        v12 ? "${alluxio.home}/underFSStorage" : "${alluxio.work.dir}/underFSStorage");
    put("alluxio.web.resources", "${alluxio.home}/core/server/src/main/webapp");
    put("alluxio.keyvalue.enabled", "false");
    put("alluxio.worker.port", "29998");
    put("alluxio.worker.data.port", "29999");
    put("alluxio.worker.web.port", "30000");
    put("alluxio.worker.bind.host", "0.0.0.0");
    put("alluxio.worker.data.bind.host", "0.0.0.0");
    put("alluxio.worker.web.bind.host", "0.0.0.0");
    put("alluxio.worker.memory.size", "1GB");
    put("alluxio.worker.data.folder", "/alluxioworker/");
    put("alluxio.worker.tieredstore.levels", "1");
    put("alluxio.worker.tieredstore.level0.alias", "MEM");
    put("alluxio.worker.tieredstore.level0.dirs.path", "/mnt/ramdisk");
    put("alluxio.worker.tieredstore.level0.dirs.quota", "${alluxio.worker.memory.size}");
    put("alluxio.worker.tieredstore.level0.reserved.ratio", "0.1");
    put("alluxio.master.tieredstore.global.levels", "3");
    put("alluxio.master.tieredstore.global.level0.alias", "MEM");
    put("alluxio.master.tieredstore.global.level1.alias", "SSD");
    put("alluxio.master.tieredstore.global.level2.alias", "HDD");
    put("alluxio.worker.block.heartbeat.interval.ms", "1000");
    put("alluxio.worker.block.heartbeat.timeout.ms", v12 ? "10000" : "60000");
    put("alluxio.logger.type", "Console");
    put("alluxio.zookeeper.enabled", "false");  // alluxio.zookeeper.address: no default
    put("alluxio.zookeeper.election.path", "/election");
    put("alluxio.zookeeper.leader.path", "/leader");
    put("alluxio.zookeeper.leader.inquiry.retry", "10");
  }

  private void put(String key, String value) {
    mValues.put(key, value);
  }

  /** The release this jar stands in for, e.g. "1.2.0". */
  public String version() {
    return mVersion;
  }

  /** True when this is release {@code prefix} (e.g. "1.2" or "1.3.0"). */
  public boolean isVersion(String prefix) {
    return mVersion.equals(prefix) || mVersion.startsWith(prefix + ".");
  }

  /** The value of {@code key} with its ${references} resolved, or null. */
  public String get(String key) {
    return resolve(mValues.get(key), 0);
  }

  public boolean isSet(String key) {
    String value = get(key);
    return value != null && !value.isEmpty();
  }

  public int getInt(String key) {
    return Integer.parseInt(get(key).trim());
  }

  public long getLong(String key) {
    return Long.parseLong(get(key).trim());
  }

  /** Every key and its resolved value. */
  public Map<String, String> all() {
    Map<String, String> out = new TreeMap<>();
    for (String key : mValues.keySet()) {
      out.put(key, get(key));
    }
    return out;
  }

  private String resolve(String value, int depth) {
    if (value == null || depth > 16) {
      return value;
    }
    Matcher m = REFERENCE.matcher(value);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String ref = mValues.containsKey(m.group(1)) ? get(m.group(1)) : System.getProperty(m.group(1));
      m.appendReplacement(out, Matcher.quoteReplacement(ref == null ? m.group() : ref));
    }
    m.appendTail(out);
    return out.toString();
  }

  /** Bytes in a size such as "1GB", "512MB", "1024" (case does not matter). */
  public static long parseBytes(String size) {
    // as FormatUtils.parseSpaceSize: B, KB, MB, GB, TB, PB or none, any case, no blank before
    Matcher m = Pattern.compile("(?i)^\\s*([0-9.]+)(b|kb|mb|gb|tb|pb)?$").matcher(size);
    if (!m.matches()) {
      throw new IllegalArgumentException("Fail to parse " + size + " to bytes");
    }
    double value = Double.parseDouble(m.group(1));
    String unit = m.group(2) == null ? "b" : m.group(2).toLowerCase();
    long scale = switch (unit.charAt(0)) {  // 1024-based
      case 'k' -> 1L << 10;
      case 'm' -> 1L << 20;
      case 'g' -> 1L << 30;
      case 't' -> 1L << 40;
      case 'p' -> 1L << 50;
      default -> 1L;
    };
    return (long) (value * scale);
  }

  /**
   * The name 1.x gives this host (NetworkAddressUtils.getLocalHostName at v1.2.0): the canonical
   * name of its address, that is the address reverse-resolved (/etc/hosts: the first name of the
   * first line holding it); the address is the host name's, unless that is loopback, link-local
   * or the wildcard, then the first such IPv4 address of the interfaces.
   */
  public static String localHostName() {
    try {
      InetAddress address = localIpAddress();
      return InetAddress.getByAddress(address.getAddress()).getCanonicalHostName();
    } catch (IOException e) {
      throw new IllegalStateException("cannot determine the local host name: " + e.getMessage(), e);
    }
  }

  private static InetAddress localIpAddress() throws IOException {
    InetAddress local = InetAddress.getLocalHost();
    if (isValid(local)) {
      return local;
    }
    for (NetworkInterface ni : Collections.list(NetworkInterface.getNetworkInterfaces())) {
      for (InetAddress address : Collections.list(ni.getInetAddresses())) {
        if (isValid(address)) {
          return address;
        }
      }
    }
    return local;
  }

  private static boolean isValid(InetAddress address) {
    return address instanceof Inet4Address && !address.isAnyLocalAddress()
        && !address.isLinkLocalAddress() && !address.isLoopbackAddress();
  }
}
