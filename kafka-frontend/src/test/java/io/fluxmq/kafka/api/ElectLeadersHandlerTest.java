package io.fluxmq.kafka.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.fluxmq.kafka.broker.LeaderTransfer;
import io.fluxmq.kafka.broker.PartitionState;
import io.fluxmq.kafka.broker.StubBrokerServices;
import io.fluxmq.kafka.broker.TopicInfo;
import io.fluxmq.kafka.server.RequestContext;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.ElectionType;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.ElectLeadersRequestData;
import org.apache.kafka.common.message.ElectLeadersRequestData.TopicPartitions;
import org.apache.kafka.common.message.ElectLeadersRequestData.TopicPartitionsCollection;
import org.apache.kafka.common.message.ElectLeadersResponseData;
import org.apache.kafka.common.message.ElectLeadersResponseData.PartitionResult;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.security.auth.KafkaPrincipal;
import org.junit.jupiter.api.Test;
import org.apache.kafka.common.security.auth.KafkaPrincipal;

/**
 * ElectLeaders answers as Kafka 4.1's controller: per partition NONE after a transfer to the preferred replica,
 * ELECTION_NOT_NEEDED when it leads already, PREFERRED_LEADER_NOT_AVAILABLE when it is offline or not in sync,
 * UNKNOWN_TOPIC_OR_PARTITION; all partitions without the ones not needing an election; UNCLEAN never elects.
 */
class ElectLeadersHandlerTest {
    /**
     * Topic "t" with 4 partitions, replicas [1,2,3] (preferred 1): p0 led by 1; p1 led by 2 (1 in sync); p2 led by 2
     * with 1 offline; p3 led by 3, and the leader finds 1 out of sync; topic "down" has one partition without leader.
     */
    private static final class Cluster extends StubBrokerServices {
        final List<TopicPartition> transfers = new ArrayList<>();

        @Override
        public Collection<TopicInfo> topics() {
            return List.of(new TopicInfo("t", new Uuid(1, 1), 4, (short) 3, Map.of(), false),
                    new TopicInfo("down", new Uuid(2, 2), 1, (short) 3, Map.of(), false));
        }

        @Override
        public Optional<TopicInfo> topic(String name) {
            return topics().stream().filter(t -> t.name().equals(name)).findFirst();
        }

        @Override
        public PartitionState partitionState(TopicPartition tp) {
            List<Integer> replicas = List.of(1, 2, 3);
            if (tp.topic().equals("down")) {
                return new PartitionState(-1, 4, replicas, List.of(1), List.of(2, 3));
            }
            return switch (tp.partition()) {
                case 0 -> new PartitionState(1, 7, replicas, replicas, List.of());
                case 1 -> new PartitionState(2, 7, replicas, replicas, List.of());
                case 2 -> new PartitionState(2, 7, replicas, List.of(2, 3), List.of(1));
                default -> new PartitionState(3, 7, replicas, replicas, List.of());
            };
        }

        @Override
        public CompletableFuture<LeaderTransfer> transferLeader(TopicPartition tp, int target, long timeoutMs) {
            synchronized (transfers) {
                transfers.add(tp);
            }
            return CompletableFuture.completedFuture(tp.partition() == 3
                    ? new LeaderTransfer(LeaderTransfer.Outcome.TARGET_NOT_IN_SYNC, 3, "replica 1 is behind")
                    : new LeaderTransfer(LeaderTransfer.Outcome.TRANSFERRED, target, ""));
        }
    }

    private final Cluster cluster = new Cluster();
    private final ElectLeadersHandler handler = new ElectLeadersHandler(cluster);

    private ElectLeadersResponseData call(short version, ElectLeadersRequestData request) {
        RequestContext context = new RequestContext(new RequestHeader(ApiKeys.ELECT_LEADERS, version, "test", 1),
                "EXTERNAL", new InetSocketAddress("127.0.0.1", 40000), KafkaPrincipal.ANONYMOUS);
        return (ElectLeadersResponseData) handler.handle(context, request).join();
    }

    private static ElectLeadersRequestData request(ElectionType type, String topic, Integer... partitions) {
        TopicPartitionsCollection topics = new TopicPartitionsCollection();
        topics.add(new TopicPartitions().setTopic(topic).setPartitions(List.of(partitions)));
        return new ElectLeadersRequestData().setElectionType(type.value).setTopicPartitions(topics)
                .setTimeoutMs(10_000);
    }

    private static Map<Integer, Short> codes(ElectLeadersResponseData response, String topic) {
        return response.replicaElectionResults().stream().filter(t -> t.topic().equals(topic)).findFirst()
                .orElseThrow().partitionResult().stream()
                .collect(java.util.stream.Collectors.toMap(PartitionResult::partitionId, PartitionResult::errorCode));
    }

    @Test
    void preferredElectionAnswersEachPartitionAsKafkaDoes() {
        ElectLeadersResponseData response = call((short) 2, request(ElectionType.PREFERRED, "t", 0, 1, 2, 3, 9));
        assertThat(response.errorCode()).isEqualTo(Errors.NONE.code());
        assertThat(codes(response, "t")).isEqualTo(Map.of(
                0, Errors.ELECTION_NOT_NEEDED.code(),
                1, Errors.NONE.code(),
                2, Errors.PREFERRED_LEADER_NOT_AVAILABLE.code(),
                3, Errors.PREFERRED_LEADER_NOT_AVAILABLE.code(),
                9, Errors.UNKNOWN_TOPIC_OR_PARTITION.code()));
        assertThat(cluster.transfers).as("only partitions led by another replica while the preferred is online")
                .containsExactlyInAnyOrder(new TopicPartition("t", 1), new TopicPartition("t", 3));
        PartitionResult p3 = response.replicaElectionResults().get(0).partitionResult().get(3);
        assertThat(p3.errorMessage()).contains("behind");
    }

    @Test
    void unknownTopicsAnswerUnknownTopicOrPartition() {
        assertThat(codes(call((short) 1, request(ElectionType.PREFERRED, "nope", 0)), "nope"))
                .isEqualTo(Map.of(0, Errors.UNKNOWN_TOPIC_OR_PARTITION.code()));
    }

    @Test
    void allPartitionsLeaveOutThoseThatNeedNoElection() {
        ElectLeadersResponseData response = call((short) 2, new ElectLeadersRequestData()
                .setElectionType(ElectionType.PREFERRED.value).setTopicPartitions(null).setTimeoutMs(10_000));
        assertThat(codes(response, "t")).doesNotContainKey(0).containsEntry(1, Errors.NONE.code())
                .containsKeys(2, 3);
        assertThat(codes(response, "down")).containsEntry(0, Errors.PREFERRED_LEADER_NOT_AVAILABLE.code());
    }

    @Test
    void versionZeroIsAlwaysPreferred() {
        ElectLeadersRequestData request = request(ElectionType.UNCLEAN, "t", 1);
        assertThat(codes(call((short) 0, request), "t")).isEqualTo(Map.of(1, Errors.NONE.code()));
    }

    @Test
    void uncleanElectionIsNotNeededWithALeaderAndImpossibleWithout() {
        assertThat(codes(call((short) 2, request(ElectionType.UNCLEAN, "t", 1)), "t"))
                .isEqualTo(Map.of(1, Errors.ELECTION_NOT_NEEDED.code()));
        ElectLeadersResponseData response = call((short) 2, request(ElectionType.UNCLEAN, "down", 0));
        assertThat(codes(response, "down")).isEqualTo(Map.of(0, Errors.ELIGIBLE_LEADERS_NOT_AVAILABLE.code()));
        assertThat(response.replicaElectionResults().get(0).partitionResult().get(0).errorMessage())
                .contains("acknowledged");
        assertThat(cluster.transfers).isEmpty();
    }

    @Test
    void everyTransferOutcomeHasAKafkaCode() {
        TopicPartition tp = new TopicPartition("t", 0);
        for (LeaderTransfer.Outcome o : LeaderTransfer.Outcome.values()) {
            PartitionResult r = ElectLeadersHandler.result(new LeaderTransfer(o, -1, ""), tp, 1);
            assertThat(Errors.forCode(r.errorCode())).isIn(Errors.NONE, Errors.ELECTION_NOT_NEEDED,
                    Errors.PREFERRED_LEADER_NOT_AVAILABLE, Errors.UNKNOWN_TOPIC_OR_PARTITION);
            if (r.errorCode() == Errors.PREFERRED_LEADER_NOT_AVAILABLE.code()) {
                assertThat(r.errorMessage()).contains(o.name());
            }
        }
    }
}
