package io.fluxmq.kafka.api;

import io.fluxmq.kafka.broker.BrokerServices;
import io.fluxmq.kafka.broker.KafkaErrors;
import io.fluxmq.kafka.server.RequestContext;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.AlterPartitionReassignmentsRequestData;
import org.apache.kafka.common.message.AlterPartitionReassignmentsRequestData.ReassignablePartition;
import org.apache.kafka.common.message.AlterPartitionReassignmentsRequestData.ReassignableTopic;
import org.apache.kafka.common.message.AlterPartitionReassignmentsResponseData;
import org.apache.kafka.common.message.AlterPartitionReassignmentsResponseData.ReassignablePartitionResponse;
import org.apache.kafka.common.message.AlterPartitionReassignmentsResponseData.ReassignableTopicResponse;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * AlterPartitionReassignments v0–1: starts (replicas given) or cancels (replicas null) the reassignment of each
 * partition; every partition gets its own error. The answer comes once the change is in cluster metadata, as in Kafka;
 * the replicas then move in the background (ListPartitionReassignments shows them until done). v1's
 * {@code allowReplicationFactorChange=false} refuses a change of the replica count with INVALID_REPLICATION_FACTOR.
 */
public final class AlterPartitionReassignmentsHandler implements ApiHandler<AlterPartitionReassignmentsRequestData> {
    private final BrokerServices broker;

    public AlterPartitionReassignmentsHandler(BrokerServices broker) {
        this.broker = broker;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.ALTER_PARTITION_REASSIGNMENTS;
    }

    @Override
    public short minVersion() {
        return 0;
    }

    @Override
    public short maxVersion() {
        return 1;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, AlterPartitionReassignmentsRequestData request) {
        AlterPartitionReassignmentsResponseData response = new AlterPartitionReassignmentsResponseData()
                .setAllowReplicationFactorChange(request.allowReplicationFactorChange());
        List<CompletableFuture<?>> pending = new ArrayList<>();
        if (!broker.authorization().allowedOnCluster(context, AclOperation.ALTER)) {
            Errors refused = Errors.CLUSTER_AUTHORIZATION_FAILED;
            for (ReassignableTopic topic : request.topics()) {
                ReassignableTopicResponse topicOut = new ReassignableTopicResponse().setName(topic.name());
                topic.partitions().forEach(p -> topicOut.partitions().add(new ReassignablePartitionResponse()
                        .setPartitionIndex(p.partitionIndex()).setErrorCode(refused.code())
                        .setErrorMessage(refused.message())));
                response.responses().add(topicOut);
            }
            return CompletableFuture.completedFuture(response.setErrorCode(refused.code())
                    .setErrorMessage(refused.message()));
        }
        for (ReassignableTopic topic : request.topics()) {
            ReassignableTopicResponse topicOut = new ReassignableTopicResponse().setName(topic.name());
            response.responses().add(topicOut);
            for (ReassignablePartition partition : topic.partitions()) {
                ReassignablePartitionResponse out = new ReassignablePartitionResponse()
                        .setPartitionIndex(partition.partitionIndex()).setErrorMessage(null);
                topicOut.partitions().add(out);
                TopicPartition tp = new TopicPartition(topic.name(), partition.partitionIndex());
                CompletableFuture<Void> done;
                try {
                    done = broker.reassignPartition(tp, partition.replicas(),
                            request.allowReplicationFactorChange());
                } catch (RuntimeException e) {
                    done = CompletableFuture.failedFuture(e);
                }
                pending.add(done.handle((v, failure) -> failure == null ? out
                        : out.setErrorCode(KafkaErrors.of(failure).code())
                                .setErrorMessage(KafkaErrors.message(failure))));
            }
        }
        return CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).thenApply(v -> response);
    }
}
