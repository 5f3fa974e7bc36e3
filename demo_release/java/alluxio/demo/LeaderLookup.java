/*
 * Demo stand-in for Alluxio 1.x, written for alluxio-reconcile (none of Alluxio's code).
 */
package alluxio.demo;

import java.util.List;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.zookeeper.data.Stat;

/**
 * How workers and clients find the leading master, as 1.2.0's (section 12): the children of
 * alluxio.zookeeper.leader.path, each "host:port"; one: that one; several: the one made last
 * (a killed leader's node stays, and loses to its successor's). When the path does not exist,
 * asked again every second, alluxio.zookeeper.leader.inquiry.retry times.
 */
public final class LeaderLookup {
  private static LeaderLookup sInstance;
  private final String mAddress;
  private final String mPath;
  private final int mTries;
  private final CuratorFramework mClient;
  private final Log mLog;

  private LeaderLookup(Conf conf, Log log) {
    mAddress = conf.get("alluxio.zookeeper.address");
    mPath = conf.get("alluxio.zookeeper.leader.path");
    mTries = conf.getInt("alluxio.zookeeper.leader.inquiry.retry");
    mLog = log;
    mLog.info("create new zookeeper client. address: " + mAddress);
    mClient = CuratorFrameworkFactory.newClient(mAddress, new ExponentialBackoffRetry(1000, 3));
    mClient.start();
  }

  public static synchronized LeaderLookup of(Conf conf, Log log) {
    if (sInstance == null) {
      sInstance = new LeaderLookup(conf, log);
    }
    return sInstance;
  }

  /** The leader's "host:port", or null (no leader recorded, or ZooKeeper failed). */
  public synchronized String leader() {
    try {
      for (int tried = 0; tried < mTries; ) {
        if (mClient.checkExists().forPath(mPath) != null) {
          List<String> masters = mClient.getChildren().forPath(mPath);
          mLog.info("Master addresses: " + masters);
          if (masters.size() == 1) {
            return masters.get(0);
          }
          if (masters.size() > 1) {
            long latest = 0;
            String leader = "";
            for (String master : masters) {
              Stat stat = mClient.checkExists().forPath(mPath.replaceAll("/+$", "") + "/" + master);
              if (stat != null && stat.getCtime() > latest) {
                latest = stat.getCtime();
                leader = master;
              }
            }
            mLog.info("The leader master: " + leader);
            return leader;
          }
        } else {
          mLog.info(mPath + " does not exist (" + ++tried + ")");
        }
        Thread.sleep(1000);
      }
    } catch (Exception e) {
      mLog.error("Error with zookeeper: " + mAddress + " message: " + e.getMessage(), e);
    }
    return null;
  }
}
