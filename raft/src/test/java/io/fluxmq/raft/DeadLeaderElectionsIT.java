package io.fluxmq.raft;

import static org.assertj.core.api.Assertions.assertThat;

import io.fluxmq.raft.log.SegmentLogConfig;
import io.fluxmq.raft.partition.PartitionReplica;
import io.fluxmq.raft.rpc.PeerDownNotifier;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.server.RaftServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three Raft nodes in one JVM with long election timeouts (6–8 s): when the leader's node closes (its sockets close and
 * its Raft port refuses connections, as after a kill), the survivors elect a new leader in far less than the shortest
 * election timeout, because the transport reports the peer gone and {@link DeadLeaderElections} starts the election.
 */
class DeadLeaderElectionsIT {
    private static final Duration ELECTION_MIN = Duration.ofSeconds(6);
    private static final TopicPartition TP = new TopicPartition("fast", 0);
    private static final RaftNode.PartitionSpec SPEC = new RaftNode.PartitionSpec(TP, Uuid.randomUuid(),
            new SegmentLogConfig(1 << 20, 3_600_000, 4096, 1 << 20));

    @TempDir
    Path dataDir;
    private final List<RaftNode> nodes = new ArrayList<>();
    private final List<Integer> ports = new ArrayList<>();

    private RaftNode startNode(int i) throws Exception {
        RaftNode node = new RaftNode(new RaftNodeConfig(i, "127.0.0.1", ports.get(i), dataDir.resolve("n" + i),
                ELECTION_MIN, ELECTION_MIN.plusSeconds(2), 1 << 20, SegmentLogConfig.defaults(), false, 10_000,
                1 << 20, false));
        node.start();
        return node;
    }

    @AfterEach
    void close() throws Exception {
        for (RaftNode node : nodes) {
            if (node != null) {
                node.close();
            }
        }
    }

    @Test
    void aClosedLeadersGroupElectsANewLeaderWellBeforeItsElectionTimeout() throws Exception {
        List<RaftPeer> peers = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            int port;
            try (ServerSocket s = new ServerSocket(0)) {
                port = s.getLocalPort();
            }
            peers.add(RaftPeer.newBuilder().setId("n" + i).setAddress("127.0.0.1:" + port).build());
            ports.add(port);
            nodes.add(startNode(i));
        }
        for (RaftNode node : nodes) {
            node.openPartition(SPEC, peers);
        }
        await("a first leader", Duration.ofSeconds(60), () -> leaderIndex() >= 0 && followersKnowTheLeader());
        int leader = leaderIndex();
        long term = division(leader).getInfo().getCurrentTerm();

        long closedAt = System.nanoTime();
        nodes.get(leader).close();
        nodes.set(leader, null);
        await("a new leader", Duration.ofSeconds(60), () -> leaderIndex() >= 0);
        long electedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - closedAt);

        int next = leaderIndex();
        System.out.printf("DEADLEADER node %d closed; node %d leads term %d after %d ms (election timeout %d-%d ms)%n",
                leader, next, division(next).getInfo().getCurrentTerm(), electedMs, ELECTION_MIN.toMillis(),
                ELECTION_MIN.toMillis() + 2000);
        assertThat(division(next).getInfo().getCurrentTerm()).isGreaterThan(term);
        assertThat(electedMs).as("new leader before the shortest election timeout")
                .isLessThan(ELECTION_MIN.toMillis() / 2);
        PartitionReplica replica = nodes.get(next).replica(TP);
        assertThat(replica.isLeader()).isTrue();
        assertThat(nodes.get(next).peerGone(leader)).as("the closed node is reported gone").isTrue();

        // The closed node comes back, and the first request on its new connection to the leader is a GroupInfo
        // (what DeadLeaderElections asks when a peer dies), whose requestor is a client id, not the peer's: it must
        // not stop the peer's own requests that follow from marking it back.
        nodes.set(leader, startNode(leader));
        nodes.get(leader).openPartition(SPEC, peers);
        // the other survivor gets no request from the restarted node (a follower sends none to another follower),
        // yet must not report it gone for good: its transport probes the port again until it accepts
        int other = 3 - leader - next;
        await("the other survivor no longer reporting the restarted node gone", Duration.ofSeconds(30),
                () -> !nodes.get(other).peerGone(leader));
        PeerDownNotifier restarted = (PeerDownNotifier) nodes.get(leader).server().getServerRpc();
        assertThat(restarted.lastEntry(peers.get(next).getId(), replica.groupId(), 10_000).get(30, TimeUnit.SECONDS))
                .isNotNull();
        assertThat(replica.transferLeadership(leader, 30_000).get(60, TimeUnit.SECONDS)).isTrue();
        await("the restarted node leading", Duration.ofSeconds(60), () -> leaderIndex() == leader);
        await("the restarted leader no longer reported gone", Duration.ofSeconds(30),
                () -> !nodes.get(next).peerGone(leader));
    }

    private int leaderIndex() {
        for (int i = 0; i < nodes.size(); i++) {
            if (nodes.get(i) != null && nodes.get(i).replica(TP) != null && nodes.get(i).replica(TP).isLeader()) {
                return i;
            }
        }
        return -1;
    }

    /** Every follower has the leader's entry of the current term (the start-up entry of its term). */
    private boolean followersKnowTheLeader() {
        int leader = leaderIndex();
        if (leader < 0) {
            return false;
        }
        long term = division(leader).getInfo().getCurrentTerm();
        for (int i = 0; i < nodes.size(); i++) {
            RaftServer.Division d = division(i);
            var last = d.getRaftLog().getLastEntryTermIndex();
            if (i != leader && (d.getInfo().getLeaderId() == null || last == null || last.getTerm() != term)) {
                return false;
            }
        }
        return true;
    }

    private RaftServer.Division division(int i) {
        try {
            return nodes.get(i).server().getDivision(nodes.get(i).replica(TP).groupId());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void await(String what, Duration bound, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + bound.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no " + what + " within " + bound);
            }
            Thread.sleep(10);
        }
    }
}
