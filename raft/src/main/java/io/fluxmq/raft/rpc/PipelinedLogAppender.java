package io.fluxmq.raft.rpc;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.proto.RaftProtos.AppendEntriesReplyProto;
import org.apache.ratis.proto.RaftProtos.AppendEntriesRequestProto;
import org.apache.ratis.proto.RaftProtos.InstallSnapshotReplyProto;
import org.apache.ratis.proto.RaftProtos.InstallSnapshotRequestProto;
import org.apache.ratis.rpc.CallId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.leader.FollowerInfo;
import org.apache.ratis.server.leader.LeaderState;
import org.apache.ratis.server.leader.LogAppenderBase;
import org.apache.ratis.server.raftlog.RaftLog;
import org.apache.ratis.server.raftlog.RaftLogIOException;
import org.apache.ratis.statemachine.SnapshotInfo;
import org.apache.ratis.util.Timestamp;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The leader's log appender for one follower of one Raft group, without a thread of its own and with several
 * appendEntries in flight (Ratis' {@code LogAppenderDefault} is a thread per follower and group, stop-and-wait).
 *
 * <p>Work happens in <em>passes</em> on the transport's shared appender pool, at most one pass of this appender at a
 * time: a pass first takes in the replies that arrived, then sends appendEntries while fewer than
 * {@code maxInFlight} are outstanding and there are entries (or a heartbeat is due), advancing the follower's next
 * index optimistically past what it sent; then it schedules a wake-up for the next heartbeat. A pass is requested by
 * Ratis ({@link #notifyLogAppender}: new entries, commit changes, heartbeat triggers), by every reply, and by the
 * wake-up. Requests of one follower leave in order on the one connection to that peer, and the follower's transport
 * serves a group's requests in arrival order, so a pipelined request finds its predecessor appended.
 *
 * <p>When the follower answers INCONSISTENCY, or a request fails (timeout, connection lost), the next index falls back
 * (to what the follower asks for, or to the failed request's first index) and an <em>epoch</em> counter advances: replies to
 * requests of an older epoch still raise the match index and commit information they prove, but no longer move the
 * next index. Snapshots (rare; the partition snapshot is small) are sent with blocking calls on the transport's
 * request pool while no appendEntries is outstanding.
 *
 * <p>Thread-safety: the fields below are confined to passes (which never overlap, see {@link #requestPass}); replies
 * reach a pass through a concurrent queue; Ratis' {@code FollowerInfo} is itself thread-safe.
 */
final class PipelinedLogAppender extends LogAppenderBase {
    private static final Logger LOGGER = LoggerFactory.getLogger(PipelinedLogAppender.class);

    /** Most appendEntries in flight per follower and group. */
    static final String MAX_IN_FLIGHT_KEY = "fluxmq.raft.appender.in-flight.max";
    static final int MAX_IN_FLIGHT_DEFAULT = 8;

    private final RaftTransport transport;
    private final int maxInFlight;
    private final Queue<Reply> replies = new ConcurrentLinkedQueue<>();

    // pass scheduling, guarded by this
    private boolean passRequested;
    private boolean passRunning;

    // confined to passes
    private int inFlight;
    private long epoch;
    /** True until the follower accepted a request of the current epoch: then only one request is in flight. */
    private boolean probing = true;
    private volatile boolean installing;
    private ScheduledFuture<?> wakeUp;
    private long wakeUpAtNanos;
    private long retryNotBeforeNanos;
    /** Failed requests since the follower last answered. */
    private int failures;

    private record Reply(long epoch, AppendEntriesRequestProto request, Timestamp sentAt,
                         AppendEntriesReplyProto reply, Throwable error) {}

    PipelinedLogAppender(RaftServer.Division server, LeaderState leaderState, FollowerInfo follower,
                         RaftTransport transport) {
        super(server, leaderState, follower);
        this.transport = transport;
        RaftProperties p = server.getRaftServer().getProperties();
        this.maxInFlight = p.getInt(MAX_IN_FLIGHT_KEY, MAX_IN_FLIGHT_DEFAULT);
    }

    @Override
    public long getCallId() {
        return CallId.get();
    }

    @Override
    public java.util.Comparator<Long> getCallIdComparator() {
        return CallId.getComparator();
    }

    /** Starts without a thread: the first pass sends the leader's first heartbeat or entries. */
    @Override
    public void start() {
        requestPass();
    }

    /** Not used: passes run on the shared pool instead of a thread per appender. */
    @Override
    public void run() {
        throw new UnsupportedOperationException("PipelinedLogAppender has no thread of its own");
    }

    @Override
    public void notifyLogAppender() {
        requestPass();
    }

    private void requestPass() {
        synchronized (this) {
            passRequested = true;
            if (passRunning) {
                return;
            }
            passRunning = true;
        }
        try {
            transport.appenderPool().execute(this::runPasses);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            synchronized (this) {
                passRunning = false; // the transport is closing
            }
        }
    }

    private void runPasses() {
        while (true) {
            synchronized (this) {
                if (!passRequested) {
                    passRunning = false;
                    return;
                }
                passRequested = false;
            }
            try {
                pass();
            } catch (RaftLogIOException | RuntimeException e) {
                LOGGER.warn("{}: appender pass failed, retrying at the next heartbeat", this, e);
                scheduleWakeUp(getServer().properties().minRpcTimeoutMs() / 2);
            }
        }
    }

    private void pass() throws RaftLogIOException {
        if (!isRunning()) {
            if (wakeUp != null) {
                wakeUp.cancel(false);
            }
            return;
        }
        for (Reply r; (r = replies.poll()) != null; ) {
            onReply(r);
        }
        if (!isRunning() || installing) {
            return;
        }
        SnapshotInfo snapshot = shouldInstallSnapshot();
        if (snapshot != null) {
            if (inFlight == 0) {
                installing = true;
                transport.snapshotPool().execute(() -> installSnapshot(snapshot));
            }
            return;
        }
        long now = System.nanoTime();
        if (now - retryNotBeforeNanos < 0) {
            scheduleWakeUp(TimeUnit.NANOSECONDS.toMillis(retryNotBeforeNanos - now) + 1);
            return;
        }
        // A heartbeat only when nothing is outstanding (an answered append is a heartbeat too), and a single request
        // while probing where the follower's log ends: a slow follower never finds a pile of requests it must refuse.
        while (inFlight < (probing ? 1 : maxInFlight)
                && (hasAppendEntries() || (inFlight == 0 && getHeartbeatWaitTimeMs() <= 0))) {
            AppendEntriesRequestProto request = newAppendEntriesRequest(CallId.getAndIncrement(), false);
            if (request == null) {
                break;
            }
            send(request);
        }
        scheduleWakeUp(getHeartbeatWaitTimeMs());
        getLeaderState().checkHealth(getFollower());
    }

    private void send(AppendEntriesRequestProto request) {
        resetHeartbeatTrigger();
        int count = request.getEntriesCount();
        getFollower().updateLastRpcSendTime(count == 0);
        if (count > 0) {
            getFollower().updateNextIndex(request.getEntries(count - 1).getIndex() + 1);
        }
        inFlight++;
        long sentEpoch = epoch;
        Timestamp sentAt = Timestamp.currentTime();
        transport.appendEntriesAsync(request).whenComplete((reply, error) -> {
            replies.add(new Reply(sentEpoch, request, sentAt, reply, error));
            requestPass();
        });
    }

    private void onReply(Reply r) {
        inFlight--;
        if (r.error() != null) {
            if (r.epoch() == epoch) {
                epoch++;
                probing = true;
                // resend from the failed request on (Ratis' appenders do the same); never from before the match
                // index, so a follower that was merely unreachable is not sent its whole log or a snapshot
                AppendEntriesRequestProto failed = r.request();
                long from = failed.hasPreviousLog() ? failed.getPreviousLog().getIndex() + 1
                        : failed.getEntriesCount() > 0 ? failed.getEntries(0).getIndex() : getFollower().getNextIndex();
                getFollower().setNextIndex(Math.max(getFollower().getMatchIndex() + 1, from));
                // back off while the follower keeps failing: Ratis' sleep time (25 ms) doubled per failure, at most
                // a quarter of the election timeout, so a dead follower costs a few requests per second per group
                long sleep = getServer().properties().rpcSleepTime().toLong(TimeUnit.NANOSECONDS)
                        << Math.min(failures++, 6);
                retryNotBeforeNanos = System.nanoTime() + Math.min(sleep,
                        TimeUnit.MILLISECONDS.toNanos(getServer().properties().minRpcTimeoutMs() / 4));
                LOGGER.debug("{}: appendEntries failed: {}", this, r.error().toString());
            }
            return;
        }
        failures = 0;
        AppendEntriesReplyProto reply = r.reply();
        FollowerInfo follower = getFollower();
        follower.updateLastRpcResponseTime();
        follower.updateLastRespondedAppendEntriesSendTime(r.sentAt());
        getLeaderState().onFollowerCommitIndex(follower, reply.getFollowerCommit());
        switch (reply.getResult()) {
            case SUCCESS -> {
                if (follower.updateMatchIndex(reply.getMatchIndex())) {
                    getLeaderState().onFollowerSuccessAppendEntries(follower);
                }
                if (r.epoch() == epoch) {
                    probing = false;
                }
                follower.updateNextIndex(reply.getMatchIndex() + 1);
            }
            case NOT_LEADER -> onFollowerTerm(reply.getTerm());
            case INCONSISTENCY -> {
                if (r.epoch() == epoch) {
                    epoch++;
                    probing = true;
                    long first = r.request().getEntriesCount() > 0 ? r.request().getEntries(0).getIndex()
                            : RaftLog.INVALID_LOG_INDEX;
                    follower.setNextIndex(getNextIndexForInconsistency(first, reply.getNextIndex()));
                }
            }
            default -> LOGGER.warn("{}: unexpected appendEntries result {}", this, reply.getResult());
        }
        getLeaderState().onAppendEntriesReply(this, reply);
    }

    /** Sends a snapshot with blocking calls, off the appender pool; then requests a pass. */
    private void installSnapshot(SnapshotInfo snapshot) {
        try {
            LOGGER.info("{}: follower next index {} but log start {}: sending snapshot {}", this,
                    getFollower().getNextIndex(), getRaftLog().getStartIndex(), snapshot);
            InstallSnapshotReplyProto reply = null;
            for (InstallSnapshotRequestProto request : newInstallSnapshotRequests(
                    java.util.UUID.randomUUID().toString(), snapshot)) {
                getFollower().updateLastRpcSendTime(false);
                reply = getServerRpc().installSnapshot(request);
                getFollower().updateLastRpcResponseTime();
                if (!reply.getServerReply().getSuccess()) {
                    break;
                }
            }
            if (reply != null) {
                switch (reply.getResult()) {
                    case NOT_LEADER -> onFollowerTerm(reply.getTerm());
                    case SUCCESS, SNAPSHOT_UNAVAILABLE, ALREADY_INSTALLED, SNAPSHOT_EXPIRED -> {
                        if (reply.getServerReply().getSuccess()) {
                            getFollower().setSnapshotIndex(snapshot.getTermIndex().getIndex());
                        }
                        getFollower().setAttemptedToInstallSnapshot();
                    }
                    default -> { }
                }
            }
        } catch (java.io.IOException | RuntimeException e) {
            LOGGER.warn("{}: failed to send snapshot {}: {}", this, snapshot, e.toString());
        } finally {
            // a plain write: the pass that reads it is requested below, after this write (happens-before via the
            // pool's queue and the monitor in requestPass)
            installing = false;
            requestPass();
        }
    }

    private void scheduleWakeUp(long delayMs) {
        long delay = Math.max(1, delayMs);
        long at = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(delay);
        if (wakeUp != null && !wakeUp.isDone() && wakeUpAtNanos - at <= 0) {
            return; // an earlier wake-up is pending
        }
        if (wakeUp != null) {
            wakeUp.cancel(false);
        }
        wakeUpAtNanos = at;
        try {
            wakeUp = transport.appenderPool().schedule(this::requestPass, delay, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            wakeUp = null; // the transport is closing
        }
    }

    @Override
    public java.util.concurrent.CompletableFuture<org.apache.ratis.util.LifeCycle.State> stopAsync() {
        java.util.concurrent.CompletableFuture<org.apache.ratis.util.LifeCycle.State> stopped = super.stopAsync();
        requestPass(); // a last pass sees it stopped and cancels nothing more; the wake-up dies with it
        return stopped;
    }
}
