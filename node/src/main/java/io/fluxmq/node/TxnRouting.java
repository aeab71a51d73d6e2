package io.fluxmq.node;

import io.fluxmq.control.v1.AddPartitionsToTxnReply;
import io.fluxmq.control.v1.AddPartitionsToTxnRequest;
import io.fluxmq.control.v1.RaftControlGrpc;
import io.fluxmq.control.v1.TxnPartition;
import io.fluxmq.kafka.txn.TxnCoordinator;
import io.fluxmq.kafka.txn.TxnPartitions;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.protocol.Errors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Transaction version 2's "add these partitions to the transaction" (KIP-890), routed to the transactional id's
 * coordinator: this node's {@link TxnCoordinator} when it leads the id's {@code __transaction_state} partition, else
 * the {@code RaftControl.AddPartitionsToTxn} gRPC call to the node that does, whose {@link #serve} answers from its own
 * coordinator. An unreachable coordinator answers NOT_COORDINATOR, no known one COORDINATOR_NOT_AVAILABLE; the caller
 * retries. The coordinator is set once the Kafka frontend is built (after the control plane starts). Thread-safe.
 */
final class TxnRouting implements TxnPartitions {
    private static final Logger LOGGER = LoggerFactory.getLogger(TxnRouting.class);
    private static final long CALL_TIMEOUT_MS = 5_000;

    private final int nodeId;
    private final ControlChannels peers;
    private volatile TxnCoordinator coordinator;

    TxnRouting(int nodeId, ControlChannels peers) {
        this.nodeId = nodeId;
        this.peers = peers;
    }

    void coordinator(TxnCoordinator coordinator) {
        this.coordinator = coordinator;
    }

    @Override
    public CompletableFuture<Errors> add(String transactionalId, long producerId, short epoch,
                                         Set<TopicPartition> partitions) {
        TxnCoordinator local = coordinator;
        if (local == null) {
            return CompletableFuture.completedFuture(Errors.COORDINATOR_NOT_AVAILABLE);
        }
        int node = local.coordinatorNode(transactionalId);
        if (node < 0) {
            return CompletableFuture.completedFuture(Errors.COORDINATOR_NOT_AVAILABLE);
        }
        if (node == nodeId) {
            return local.addPartitions(transactionalId, producerId, epoch, partitions);
        }
        AddPartitionsToTxnRequest.Builder request = AddPartitionsToTxnRequest.newBuilder()
                .setTransactionalId(transactionalId).setProducerId(producerId).setProducerEpoch(epoch);
        partitions.forEach(tp -> request.addPartitions(TxnPartition.newBuilder().setTopic(tp.topic())
                .setPartition(tp.partition())));
        return GrpcCalls.unary(peers.channel(node), RaftControlGrpc.ADD_PARTITIONS_TO_TXN, request.build(),
                CALL_TIMEOUT_MS).handle((reply, failure) -> {
                    if (failure != null) {
                        LOGGER.debug("Adding {} to the transaction of {}: node {} did not answer: {}", partitions,
                                transactionalId, node, failure.toString());
                        peers.discard(node);
                        return Errors.NOT_COORDINATOR;
                    }
                    return Errors.forCode((short) reply.getErrorCode());
                });
    }

    /** The gRPC side: answered by this node's coordinator, never forwarded. */
    CompletableFuture<AddPartitionsToTxnReply> serve(AddPartitionsToTxnRequest request) {
        TxnCoordinator local = coordinator;
        Set<TopicPartition> partitions = new HashSet<>();
        request.getPartitionsList().forEach(p -> partitions.add(new TopicPartition(p.getTopic(), p.getPartition())));
        CompletableFuture<Errors> answer = local == null
                ? CompletableFuture.completedFuture(Errors.NOT_COORDINATOR)
                : local.addPartitions(request.getTransactionalId(), request.getProducerId(),
                        (short) request.getProducerEpoch(), partitions);
        return answer.thenApply(e -> AddPartitionsToTxnReply.newBuilder().setErrorCode(e.code()).build());
    }
}
