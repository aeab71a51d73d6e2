package io.fluxmq.kafka.api;

import io.fluxmq.kafka.broker.BrokerServices;
import io.fluxmq.kafka.broker.KafkaErrors;
import io.fluxmq.kafka.broker.LeaderTransfer;
import io.fluxmq.kafka.broker.PartitionState;
import io.fluxmq.kafka.broker.TopicInfo;
import io.fluxmq.kafka.server.RequestContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.ElectionType;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.ElectLeadersRequestData;
import org.apache.kafka.common.message.ElectLeadersRequestData.TopicPartitions;
import org.apache.kafka.common.message.ElectLeadersResponseData;
import org.apache.kafka.common.message.ElectLeadersResponseData.PartitionResult;
import org.apache.kafka.common.message.ElectLeadersResponseData.ReplicaElectionResult;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * ElectLeaders v0–2 ({@code Admin.electLeaders}, {@code kafka-leader-election}), answered as Kafka 4.1's controller
 * answers (ReplicationControlManager.electLeader):
 * <ul>
 *   <li>PREFERRED (v0 always): a partition whose leader is its preferred replica (the first assigned one) answers
 *   ELECTION_NOT_NEEDED; otherwise the partition's current leader hands leadership to the preferred replica with a
 *   Raft leadership transfer ({@link BrokerServices#transferLeader}) if that replica is in sync, and the partition
 *   answers NONE once it leads; PREFERRED_LEADER_NOT_AVAILABLE when it is down, not answering or behind.</li>
 *   <li>UNCLEAN: Raft never elects a replica that may lack committed entries, so there is nothing unclean to do: a
 *   partition with a leader answers ELECTION_NOT_NEEDED (as Kafka does), one without a leader (no majority of its
 *   replicas up) ELIGIBLE_LEADERS_NOT_AVAILABLE with a message saying why (as Kafka does when no replica can
 *   lead).</li>
 * </ul>
 * Unknown topics and partitions answer UNKNOWN_TOPIC_OR_PARTITION. Without a partition list (null: every partition
 * of every topic), partitions that answer ELECTION_NOT_NEEDED are left out of the response, as in Kafka. Each
 * partition not done within the request's {@code timeout_ms} answers REQUEST_TIMED_OUT. Never blocks the calling
 * thread.
 */
public final class ElectLeadersHandler implements ApiHandler<ElectLeadersRequestData> {
    static final String UNCLEAN_MESSAGE = "FluxMQ partitions are Raft groups: only a replica holding every committed "
            + "record can lead, and none is available until a majority of the partition's replicas is up (an unclean "
            + "election would lose acknowledged records)";

    private final BrokerServices broker;

    public ElectLeadersHandler(BrokerServices broker) {
        this.broker = broker;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.ELECT_LEADERS;
    }

    @Override
    public short minVersion() {
        return 0;
    }

    @Override
    public short maxVersion() {
        return 2;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, ElectLeadersRequestData request) {
        ElectLeadersResponseData response = new ElectLeadersResponseData();
        if (!broker.authorization().allowedOnCluster(context, AclOperation.ALTER)) {
            // as Kafka: the request's error, and each partition named in it gets it too
            Errors refused = Errors.CLUSTER_AUTHORIZATION_FAILED;
            if (request.topicPartitions() != null) {
                for (TopicPartitions topic : request.topicPartitions()) {
                    ReplicaElectionResult out = new ReplicaElectionResult().setTopic(topic.topic());
                    topic.partitions().forEach(p -> out.partitionResult().add(new PartitionResult().setPartitionId(p)
                            .setErrorCode(refused.code()).setErrorMessage(refused.message())));
                    response.replicaElectionResults().add(out);
                }
            }
            return CompletableFuture.completedFuture(response.setErrorCode(refused.code()));
        }
        ElectionType type;
        try {
            type = context.version() == 0 ? ElectionType.PREFERRED : ElectionType.valueOf(request.electionType());
        } catch (IllegalArgumentException e) {
            return CompletableFuture.completedFuture(response.setErrorCode(Errors.INVALID_REQUEST.code()));
        }
        boolean all = request.topicPartitions() == null;
        List<TopicPartitions> wanted = all ? everyPartition() : new ArrayList<>(request.topicPartitions());
        List<CompletableFuture<?>> pending = new ArrayList<>();
        for (TopicPartitions topic : wanted) {
            ReplicaElectionResult out = new ReplicaElectionResult().setTopic(topic.topic());
            response.replicaElectionResults().add(out);
            Optional<TopicInfo> info = broker.topic(topic.topic());
            for (int partition : topic.partitions()) {
                TopicPartition tp = new TopicPartition(topic.topic(), partition);
                pending.add(elect(info, tp, type, request.timeoutMs()).handle((result, failure) -> {
                    PartitionResult r = failure == null ? result : new PartitionResult()
                            .setErrorCode(KafkaErrors.of(failure).code()).setErrorMessage(failure.toString());
                    synchronized (out) {
                        if (!(all && r.errorCode() == Errors.ELECTION_NOT_NEEDED.code())) {
                            out.partitionResult().add(r.setPartitionId(partition));
                        }
                    }
                    return null;
                }));
            }
        }
        return CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).thenApply(v -> {
            response.replicaElectionResults().forEach(t -> t.partitionResult()
                    .sort((a, b) -> Integer.compare(a.partitionId(), b.partitionId())));
            return response;
        });
    }

    private List<TopicPartitions> everyPartition() {
        List<TopicPartitions> out = new ArrayList<>();
        for (TopicInfo t : broker.topics()) {
            List<Integer> partitions = new ArrayList<>();
            for (int p = 0; p < t.partitions(); p++) {
                partitions.add(p);
            }
            out.add(new TopicPartitions().setTopic(t.name()).setPartitions(partitions));
        }
        return out;
    }

    private CompletableFuture<PartitionResult> elect(Optional<TopicInfo> info, TopicPartition tp, ElectionType type,
                                                     int timeoutMs) {
        if (info.isEmpty() || tp.partition() < 0 || tp.partition() >= info.get().partitions()) {
            return done(Errors.UNKNOWN_TOPIC_OR_PARTITION, "No such partition as " + tp);
        }
        PartitionState state = broker.partitionState(tp);
        if (type == ElectionType.UNCLEAN) {
            return state.leader() >= 0 ? done(Errors.ELECTION_NOT_NEEDED, null)
                    : done(Errors.ELIGIBLE_LEADERS_NOT_AVAILABLE, UNCLEAN_MESSAGE);
        }
        if (state.replicas().isEmpty()) {
            return done(Errors.UNKNOWN_TOPIC_OR_PARTITION, "No replicas assigned to " + tp);
        }
        int preferred = state.replicas().get(0);
        if (state.leader() == preferred) {
            return done(Errors.ELECTION_NOT_NEEDED, null);
        }
        if (state.leader() < 0) {
            return done(Errors.PREFERRED_LEADER_NOT_AVAILABLE, tp + " has no leader to hand over (Raft elects one "
                    + "once a majority of its replicas is up)");
        }
        if (state.offline().contains(preferred)) {
            return done(Errors.PREFERRED_LEADER_NOT_AVAILABLE, "preferred replica " + preferred + " of " + tp
                    + " is offline");
        }
        return broker.transferLeader(tp, preferred, Math.max(1, timeoutMs))
                .orTimeout(Math.max(1, timeoutMs), TimeUnit.MILLISECONDS)
                .thenApply(t -> result(t, tp, preferred));
    }

    /** The Kafka answer to a transfer's outcome. */
    static PartitionResult result(LeaderTransfer transfer, TopicPartition tp, int preferred) {
        String why = transfer.message() == null || transfer.message().isEmpty() ? null : transfer.message();
        Errors error = switch (transfer.outcome()) {
            case TRANSFERRED -> Errors.NONE;
            case ALREADY_LEADER -> Errors.ELECTION_NOT_NEEDED;
            case UNKNOWN_PARTITION -> Errors.UNKNOWN_TOPIC_OR_PARTITION;
            case TARGET_NOT_IN_SYNC, NOT_A_REPLICA, NO_LEADER, FAILED -> Errors.PREFERRED_LEADER_NOT_AVAILABLE;
        };
        if (error == Errors.PREFERRED_LEADER_NOT_AVAILABLE && why == null) {
            why = "preferred replica " + preferred + " of " + tp + " cannot lead now (" + transfer.outcome() + ")";
        }
        return new PartitionResult().setErrorCode(error.code()).setErrorMessage(error == Errors.NONE ? null : why);
    }

    private static CompletableFuture<PartitionResult> done(Errors error, String message) {
        return CompletableFuture.completedFuture(new PartitionResult().setErrorCode(error.code())
                .setErrorMessage(message));
    }
}
