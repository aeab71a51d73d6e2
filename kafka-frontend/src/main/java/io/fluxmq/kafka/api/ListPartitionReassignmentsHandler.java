package io.fluxmq.kafka.api;

import io.fluxmq.kafka.broker.BrokerServices;
import io.fluxmq.kafka.broker.ReassignmentInfo;
import io.fluxmq.kafka.server.RequestContext;
import java.util.ArrayList;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.ListPartitionReassignmentsRequestData;
import org.apache.kafka.common.message.ListPartitionReassignmentsRequestData.ListPartitionReassignmentsTopics;
import org.apache.kafka.common.message.ListPartitionReassignmentsResponseData;
import org.apache.kafka.common.message.ListPartitionReassignmentsResponseData.OngoingPartitionReassignment;
import org.apache.kafka.common.message.ListPartitionReassignmentsResponseData.OngoingTopicReassignment;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * ListPartitionReassignments v0: the reassignments in progress (every one, or those of the listed partitions), each
 * with its full replica set and the replicas being added and removed. Partitions without one are left out, as in
 * Kafka.
 */
public final class ListPartitionReassignmentsHandler implements ApiHandler<ListPartitionReassignmentsRequestData> {
    private final BrokerServices broker;

    public ListPartitionReassignmentsHandler(BrokerServices broker) {
        this.broker = broker;
    }

    @Override
    public ApiKeys apiKey() {
        return ApiKeys.LIST_PARTITION_REASSIGNMENTS;
    }

    @Override
    public short minVersion() {
        return 0;
    }

    @Override
    public short maxVersion() {
        return 0;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(RequestContext context, ListPartitionReassignmentsRequestData request) {
        if (!broker.authorization().allowedOnCluster(context, AclOperation.DESCRIBE)) {
            return CompletableFuture.completedFuture(new ListPartitionReassignmentsResponseData()
                    .setErrorCode(Errors.CLUSTER_AUTHORIZATION_FAILED.code())
                    .setErrorMessage(Errors.CLUSTER_AUTHORIZATION_FAILED.message()));
        }
        Map<TopicPartition, ReassignmentInfo> all = broker.reassignments();
        Map<String, OngoingTopicReassignment> topics = new TreeMap<>();
        all.entrySet().stream()
                .filter(e -> wanted(request, e.getKey()))
                .sorted(Map.Entry.comparingByKey((a, b) -> a.topic().equals(b.topic())
                        ? Integer.compare(a.partition(), b.partition()) : a.topic().compareTo(b.topic())))
                .forEach(e -> topics.computeIfAbsent(e.getKey().topic(),
                                n -> new OngoingTopicReassignment().setName(n))
                        .partitions().add(new OngoingPartitionReassignment()
                                .setPartitionIndex(e.getKey().partition())
                                .setReplicas(e.getValue().replicas())
                                .setAddingReplicas(e.getValue().adding())
                                .setRemovingReplicas(e.getValue().removing())));
        return CompletableFuture.completedFuture(new ListPartitionReassignmentsResponseData()
                .setErrorMessage(null).setTopics(new ArrayList<>(topics.values())));
    }

    private static boolean wanted(ListPartitionReassignmentsRequestData request, TopicPartition tp) {
        if (request.topics() == null) {
            return true;
        }
        for (ListPartitionReassignmentsTopics t : request.topics()) {
            if (t.name().equals(tp.topic()) && t.partitionIndexes().contains(tp.partition())) {
                return true;
            }
        }
        return false;
    }
}
