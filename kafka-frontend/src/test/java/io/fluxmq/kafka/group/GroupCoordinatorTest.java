package io.fluxmq.kafka.group;

import static org.assertj.core.api.Assertions.assertThat;

import io.fluxmq.kafka.broker.BrokerEndpoint;
import io.fluxmq.kafka.broker.PartitionState;
import io.fluxmq.kafka.broker.StubBrokerServices;
import io.fluxmq.kafka.broker.TopicInfo;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.Test;

/** Which node coordinates a group, and what a node answers while it does not (yet) serve it. */
class GroupCoordinatorTest {
    private static final int PARTITIONS = 10;

    /** Node 1 of two; node 2 leads every offsets partition. Metadata only, no replicas here. */
    private static final class TwoNodes extends StubBrokerServices {
        boolean offsetsTopic = true;
        int leader = 2;

        @Override
        public int controllerId() {
            return 2;
        }

        @Override
        public List<BrokerEndpoint> brokers(String listener) {
            String host = listener.equals("INTERNAL") ? "fluxmq-" : "localhost-";
            return List.of(new BrokerEndpoint(1, host + 1, 9092, null), new BrokerEndpoint(2, host + 2, 9093, null));
        }

        @Override
        public Collection<TopicInfo> topics() {
            return topic(GroupCoordinator.OFFSETS_TOPIC).stream().toList();
        }

        @Override
        public Optional<TopicInfo> topic(String name) {
            return offsetsTopic && name.equals(GroupCoordinator.OFFSETS_TOPIC) ? Optional.of(new TopicInfo(name,
                    new Uuid(3, 4), PARTITIONS, (short) 1, Map.of(), true)) : Optional.empty();
        }

        @Override
        public Optional<TopicInfo> topic(Uuid topicId) {
            return Optional.empty();
        }

        @Override
        public PartitionState partitionState(TopicPartition tp) {
            return new PartitionState(leader, 1, List.of(1, 2), List.of(1, 2), List.of());
        }
    }

    private final TwoNodes broker = new TwoNodes();
    private final GroupCoordinator coordinator = new GroupCoordinator(broker, GroupConfig.defaults(), () -> 0L,
            tp -> Runnable::run);

    @Test
    void theCoordinatorIsTheOffsetsPartitionLeaderOnTheClientsListener() {
        assertThat(GroupCoordinator.partitionFor("payments", PARTITIONS))
                .isEqualTo(Utils.abs("payments".hashCode()) % PARTITIONS);

        GroupCoordinator.Coordinator external = coordinator.findCoordinator("payments", "EXTERNAL");
        GroupCoordinator.Coordinator internal = coordinator.findCoordinator("payments", "INTERNAL");

        assertThat(external.error()).isEqualTo(Errors.NONE);
        assertThat(external.endpoint()).isEqualTo(new BrokerEndpoint(2, "localhost-2", 9093, null));
        assertThat(internal.endpoint().host()).isEqualTo("fluxmq-2");
        broker.leader = -1;
        assertThat(coordinator.findCoordinator("payments", "EXTERNAL").error())
                .isEqualTo(Errors.COORDINATOR_NOT_AVAILABLE);
        broker.offsetsTopic = false;
        assertThat(coordinator.findCoordinator("payments", "EXTERNAL").error())
                .isEqualTo(Errors.COORDINATOR_NOT_AVAILABLE);
    }

    @Test
    void aNodeAnswersNotCoordinatorThenLoadInProgressUntilItsShardIsLoaded() {
        int partition = GroupCoordinator.partitionFor("payments", PARTITIONS);
        assertThat(refused("payments")).isEqualTo(Errors.NOT_COORDINATOR);

        GroupShard shard = new GroupShard(partition, 7, GroupConfig.defaults(), ConsumerGroupTest.TOPICS,
                entries -> CompletableFuture.completedFuture(null));
        coordinator.install(shard);
        assertThat(refused("payments")).isEqualTo(Errors.COORDINATOR_LOAD_IN_PROGRESS);
        assertThat(coordinator.listGroups().error()).isEqualTo(Errors.COORDINATOR_LOAD_IN_PROGRESS);

        shard.activate();
        assertThat(coordinator.route("payments")).isInstanceOf(GroupCoordinator.Route.Served.class);
        assertThat(coordinator.listGroups().error()).isEqualTo(Errors.NONE);

        shard.unload();
        assertThat(refused("payments")).isEqualTo(Errors.NOT_COORDINATOR);
        assertThat(refused("")).isEqualTo(Errors.INVALID_GROUP_ID);
        broker.offsetsTopic = false;
        assertThat(refused("payments")).isEqualTo(Errors.COORDINATOR_NOT_AVAILABLE);
    }

    private Errors refused(String groupId) {
        GroupCoordinator.Route route = coordinator.route(groupId);
        assertThat(route).isInstanceOf(GroupCoordinator.Route.Refused.class);
        return ((GroupCoordinator.Route.Refused) route).error();
    }
}
