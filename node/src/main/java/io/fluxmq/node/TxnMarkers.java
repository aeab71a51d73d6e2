package io.fluxmq.node;

import io.fluxmq.control.v1.RaftControlGrpc;
import io.fluxmq.control.v1.WriteTxnMarkerReply;
import io.fluxmq.control.v1.WriteTxnMarkerRequest;
import io.fluxmq.kafka.broker.KafkaErrors;
import io.fluxmq.kafka.group.GroupCoordinator;
import io.fluxmq.kafka.txn.TxnShard;
import io.fluxmq.raft.RaftNode;
import io.fluxmq.raft.partition.Partition;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Function;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.protocol.Errors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes transaction markers for the transaction coordinator: to the local replica when this node leads the
 * partition, else with the {@code RaftControl.WriteTxnMarker} gRPC call (FluxMQ's equivalent of Kafka's
 * WriteTxnMarkers) to the node that leads it, whose {@link #writeLocal} appends the marker through the partition's
 * Raft group on the partition's append executor (the one produce uses, so the marker takes its place in the
 * partition's order). Answers with a Kafka error; the coordinator retries until NONE. Thread-safe.
 */
final class TxnMarkers implements TxnShard.MarkerWriter {
    private static final Logger LOGGER = LoggerFactory.getLogger(TxnMarkers.class);
    private static final long CALL_TIMEOUT_MS = 10_000;

    private final int nodeId;
    private final RaftNode raft;
    private final ClusterBroker broker;
    private final ControlChannels peers;
    private final Function<TopicPartition, Executor> appends;
    /** Told of each marker written here to a {@code __consumer_offsets} partition: (partition, producer, commit). */
    private volatile OffsetsMarkerListener offsetsMarkers = (partition, producerId, commit) -> { };

    /** The group coordinator's hook for transactional offsets (TxnOffsetCommit). */
    @FunctionalInterface
    interface OffsetsMarkerListener {
        void written(int partition, long producerId, boolean commit);
    }

    TxnMarkers(int nodeId, RaftNode raft, ClusterBroker broker, ControlChannels peers,
               Function<TopicPartition, Executor> appends) {
        this.nodeId = nodeId;
        this.raft = raft;
        this.broker = broker;
        this.peers = peers;
        this.appends = appends;
    }

    @Override
    public CompletableFuture<Errors> write(TopicPartition tp, long producerId, short epoch, boolean commit,
                                           int coordinatorEpoch) {
        if (broker.topic(tp.topic()).isEmpty()) {
            return CompletableFuture.completedFuture(Errors.UNKNOWN_TOPIC_OR_PARTITION);
        }
        int leader = broker.partitionState(tp).leader();
        if (leader < 0) {
            return CompletableFuture.completedFuture(Errors.NOT_LEADER_OR_FOLLOWER);
        }
        if (leader == nodeId) {
            return writeLocal(tp, producerId, epoch, commit, coordinatorEpoch);
        }
        WriteTxnMarkerRequest request = WriteTxnMarkerRequest.newBuilder().setTopic(tp.topic())
                .setPartition(tp.partition()).setProducerId(producerId).setProducerEpoch(epoch).setCommit(commit)
                .setCoordinatorEpoch(coordinatorEpoch).build();
        return GrpcCalls.unary(peers.channel(leader), RaftControlGrpc.WRITE_TXN_MARKER, request, CALL_TIMEOUT_MS)
                .handle((reply, failure) -> {
                    if (failure != null) {
                        LOGGER.debug("Marker for producer {} on {}: node {} did not answer: {}", producerId, tp,
                                leader, failure.toString());
                        peers.discard(leader);
                        return Errors.NOT_LEADER_OR_FOLLOWER;
                    }
                    return Errors.forCode((short) reply.getErrorCode());
                });
    }

    void onOffsetsMarker(OffsetsMarkerListener listener) {
        this.offsetsMarkers = listener;
    }

    /** Appends the marker to this node's replica, which must lead the partition; completes once committed. */
    CompletableFuture<Errors> writeLocal(TopicPartition tp, long producerId, short epoch, boolean commit,
                                         int coordinatorEpoch) {
        Partition replica = broker.replica(tp); // on Ratis or on the multi-Raft engine
        if (replica == null || !replica.isLeader()) {
            return CompletableFuture.completedFuture(Errors.NOT_LEADER_OR_FOLLOWER);
        }
        try {
            return CompletableFuture.supplyAsync(() -> replica.appendMarker(producerId, epoch, commit,
                            coordinatorEpoch), appends.apply(tp))
                    .thenCompose(appended -> appended)
                    .handle((result, failure) -> {
                        if (failure != null) {
                            return KafkaErrors.of(failure);
                        }
                        if (GroupCoordinator.OFFSETS_TOPIC.equals(tp.topic())) {
                            offsetsMarkers.written(tp.partition(), producerId, commit);
                        }
                        return Errors.NONE;
                    });
        } catch (RejectedExecutionException e) {
            return CompletableFuture.completedFuture(Errors.NOT_LEADER_OR_FOLLOWER);
        }
    }

    /** The gRPC side: a reply for {@link #writeLocal}'s outcome. */
    CompletableFuture<WriteTxnMarkerReply> serve(WriteTxnMarkerRequest request) {
        TopicPartition tp = new TopicPartition(request.getTopic(), request.getPartition());
        return writeLocal(tp, request.getProducerId(), (short) request.getProducerEpoch(), request.getCommit(),
                request.getCoordinatorEpoch()).thenApply(e -> WriteTxnMarkerReply.newBuilder()
                        .setErrorCode(e.code()).setMessage(e == Errors.NONE ? "" : e.message()).build());
    }
}
