/*
 * Demo stand-in for Alluxio 1.x, written for alluxio-reconcile (none of Alluxio's code).
 */
package alluxio.demo;

import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.leader.LeaderSelector;
import org.apache.curator.framework.recipes.leader.LeaderSelectorListener;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.retry.ExponentialBackoffRetry;

/**
 * A master's part in the election, as 1.2.0's (section 12 of the interface reference): a Curator
 * LeaderSelector on alluxio.zookeeper.election.path with this master's "host:rpcport" as its
 * id, requeued after it relinquishes; while it leads, a persistent node of that name under
 * alluxio.zookeeper.leader.path (deleted and made anew when it takes the lead, deleted when it
 * lets go: a killed leader's node stays). Curator's default session timeout (60 s, capped by
 * the server's maxSessionTimeout) decides how long a killed leader keeps the lead.
 */
public final class Election implements LeaderSelectorListener {
  private final String mId;
  private final String mLeaderNode;
  private final Log mLog;
  private final LeaderSelector mSelector;
  private final AtomicBoolean mLeader = new AtomicBoolean(false);
  private volatile Thread mMasterThread;

  public Election(Conf conf, String id, Log log) {
    mId = id;
    mLog = log;
    String folder = conf.get("alluxio.zookeeper.leader.path");
    mLeaderNode = (folder.endsWith("/") ? folder : folder + "/") + id;
    mSelector = new LeaderSelector(client(conf.get("alluxio.zookeeper.address")),
        conf.get("alluxio.zookeeper.election.path"), this);
    mSelector.setId(id);
    mSelector.autoRequeue();
  }

  /** A started Curator client; as 1.2.0, started once and closed first, so that a master restarted
   * within its old session's timeout does not pass for the old one. */
  static CuratorFramework client(String address) {
    CuratorFramework client = CuratorFrameworkFactory.newClient(address,
        new ExponentialBackoffRetry(1000, 3));
    client.start();
    client.close();
    client = CuratorFrameworkFactory.newClient(address, new ExponentialBackoffRetry(1000, 3));
    client.start();
    return client;
  }

  public void start(Thread masterThread) {
    mMasterThread = masterThread;
    mSelector.start();
  }

  public boolean isLeader() {
    return mLeader.get();
  }

  @Override
  public void stateChanged(CuratorFramework client, ConnectionState state) {
    mLeader.set(false);
    if (state == ConnectionState.LOST || state == ConnectionState.SUSPENDED) {
      // as 1.2.0: the master's thread is interrupted, which a thread blocked serving ignores
      Thread thread = mMasterThread;
      if (thread != null) {
        thread.interrupt();
      }
    } else {
      try {
        mLog.info("The current leader is " + mSelector.getLeader().getId());
      } catch (Exception e) {
        mLog.error(e.getMessage(), e);
      }
    }
  }

  @Override
  public void takeLeadership(CuratorFramework client) throws Exception {
    mLeader.set(true);
    if (client.checkExists().forPath(mLeaderNode) != null) {
      mLog.info("deleting zk path: " + mLeaderNode);
      client.delete().forPath(mLeaderNode);
    }
    mLog.info("creating zk path: " + mLeaderNode);
    client.create().creatingParentsIfNeeded().forPath(mLeaderNode);
    mLog.info(mId + " is now the leader.");
    try {
      while (true) {
        Thread.sleep(5000);
      }
    } catch (InterruptedException e) {
      mLog.error(mId + " was interrupted.", e);
      Thread.currentThread().interrupt();
    } finally {
      mLeader.set(false);
      mLog.warn(mId + " relinquishing leadership.");
      client.delete().forPath(mLeaderNode);
    }
  }
}
