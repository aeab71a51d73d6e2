package io.fluxmq.kafka.broker;

import io.fluxmq.kafka.auth.Authorization;
import io.fluxmq.kafka.quota.ClientQuotaManager;
import io.fluxmq.raft.partition.AppendResult;
import io.fluxmq.raft.partition.PartitionError;
import io.fluxmq.raft.partition.PartitionException;
import io.fluxmq.raft.partition.Partition;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.quota.ClientQuotaAlteration;
import org.apache.kafka.common.quota.ClientQuotaEntity;
import org.apache.kafka.common.record.MemoryRecords;

/**
 * What the Kafka frontend needs from the node: cluster metadata, local partition replicas and topic administration.
 * Implementations are thread-safe; futures may complete on any thread.
 */
public interface BrokerServices {
    int nodeId();

    String clusterId();

    int controllerId();

    /** Every live node, with the address of the listener named {@code listener}. */
    List<BrokerEndpoint> brokers(String listener);

    Collection<TopicInfo> topics();

    Optional<TopicInfo> topic(String name);

    Optional<TopicInfo> topic(Uuid topicId);

    PartitionState partitionState(TopicPartition tp);

    /** This node's replica of a partition, or null when it holds none. */
    Partition replica(TopicPartition tp);

    /** What Fetch reads from this node's replica of a partition, or null when it holds none. */
    default PartitionReads partitionReads(TopicPartition tp) {
        Partition replica = replica(tp);
        return replica == null ? null : new ReplicaReads(replica);
    }

    /**
     * Appends one record batch to this node's replica of {@code tp} (see {@link Partition#append}); fails with
     * NOT_LEADER when this node holds none. May block while Raft is busy: call it off the event loop.
     */
    default CompletableFuture<AppendResult> append(TopicPartition tp, MemoryRecords records) {
        Partition replica = replica(tp);
        if (replica == null) {
            return CompletableFuture.failedFuture(new PartitionException(PartitionError.NOT_LEADER,
                    "this node holds no replica of " + tp));
        }
        return replica.append(records);
    }

    /** Whether Metadata requests may create unknown topics (Kafka's {@code auto.create.topics.enable}). */
    boolean autoCreateTopics();

    /** Creates a topic; completes when every partition has a leader. Fails with an {@link AdminException}. */
    CompletableFuture<TopicInfo> createTopic(String name, int partitions, short replicationFactor,
                                             Map<String, String> configs, boolean validateOnly);

    CompletableFuture<Void> deleteTopic(String name);

    CompletableFuture<Void> createPartitions(String name, int totalCount, boolean validateOnly);

    /** Topic config defaults, reported by CreateTopics for the configs a new topic does not set. */
    Map<String, String> topicConfigDefaults();

    /**
     * Every config of a topic or of this broker (DescribeConfigs), with source, synonyms and documentation. Throws
     * an {@link AdminException}: unknown topic, another broker's id, a resource type FluxMQ has no configs for.
     */
    List<ConfigValue> describeConfigs(ConfigResource resource);

    /**
     * Alters the configs of a topic or of this broker. {@code incremental} (IncrementalAlterConfigs) applies the
     * changes to the current configs; otherwise (AlterConfigs, SET only) they replace every override. Completes once
     * the change is in cluster metadata and this node applied it; nothing changes when {@code validateOnly}. Fails
     * with an {@link AdminException} (INVALID_CONFIG, UNKNOWN_TOPIC_OR_PARTITION, INVALID_REQUEST, ...).
     */
    CompletableFuture<Void> alterConfigs(ConfigResource resource, List<ConfigChange> changes, boolean incremental,
                                         boolean validateOnly);

    /**
     * DeleteRecords on this node's replica of {@code tp}: moves the log start of every replica to {@code offset}
     * (at most the high watermark) through the partition's Raft group; completes with the new log start once this
     * replica applied it. Fails with NOT_LEADER when this node does not lead the partition, OFFSET_OUT_OF_RANGE
     * beyond the high watermark.
     */
    default CompletableFuture<Long> deleteRecords(TopicPartition tp, long offset) {
        Partition replica = replica(tp);
        if (replica == null || !replica.isLeader()) {
            return CompletableFuture.failedFuture(new PartitionException(PartitionError.NOT_LEADER,
                    "this node does not lead " + tp));
        }
        long start = replica.logStartOffset();
        return offset <= start ? CompletableFuture.completedFuture(start) : replica.advanceLogStart(offset);
    }

    /**
     * Moves the leadership of {@code tp} to the replica on node {@code target} if it is in sync (ElectLeaders:
     * the preferred replica), through a Raft leadership transfer run by the partition's current leader, wherever that
     * is. Completes with the outcome once the transfer finished or was refused; never fails for a refused transfer.
     */
    default CompletableFuture<LeaderTransfer> transferLeader(TopicPartition tp, int target, long timeoutMs) {
        return CompletableFuture.completedFuture(new LeaderTransfer(LeaderTransfer.Outcome.FAILED, -1,
                "this node cannot transfer leadership"));
    }

    /** This node's log directory and replicas (DescribeLogDirs). */
    default LogDirDescription logDir() {
        return new LogDirDescription("", -1, -1, List.of());
    }

    /**
     * Starts moving a partition to the replicas {@code target} (first = preferred leader), or with {@code target ==
     * null} cancels the reassignment in progress; completes once the change is in cluster metadata (the move then
     * runs in the background, see {@link #reassignments()}). Fails with an {@link AdminException}:
     * UNKNOWN_TOPIC_OR_PARTITION, INVALID_REPLICA_ASSIGNMENT (unknown node, duplicate, empty),
     * INVALID_REPLICATION_FACTOR (size change when not allowed), NO_REASSIGNMENT_IN_PROGRESS (cancel).
     */
    default CompletableFuture<Void> reassignPartition(TopicPartition tp, List<Integer> target,
                                                      boolean allowReplicationFactorChange) {
        return CompletableFuture.failedFuture(new AdminException(Errors.UNSUPPORTED_VERSION,
                "reassignment is not supported"));
    }

    /** The partition reassignments in progress. */
    default Map<TopicPartition, ReassignmentInfo> reassignments() {
        return Map.of();
    }

    /**
     * The access check of this node: {@link Authorization#DISABLED} unless {@code authorizer.class.name} is set.
     */
    default Authorization authorization() {
        return Authorization.DISABLED;
    }

    /**
     * Adds ACL bindings to cluster metadata (already validated); completes once this node applied them. Fails with an
     * {@link AdminException}.
     */
    default CompletableFuture<Void> createAcls(List<AclBinding> acls) {
        return CompletableFuture.failedFuture(new AdminException(Errors.SECURITY_DISABLED,
                "No Authorizer is configured."));
    }

    /** The ACL bindings {@code filter} matches (Kafka's {@link AclBindingFilter#matches}). */
    default List<AclBinding> acls(AclBindingFilter filter) {
        return List.of();
    }

    /**
     * Deletes the ACL bindings each filter matches, as one metadata change; completes with the bindings each filter
     * matched (in filter order) once this node applied it.
     */
    default CompletableFuture<List<List<AclBinding>>> deleteAcls(List<AclBindingFilter> filters) {
        return CompletableFuture.failedFuture(new AdminException(Errors.SECURITY_DISABLED,
                "No Authorizer is configured."));
    }

    /**
     * Applies validated SCRAM credential changes (at most one per user) to cluster metadata as one change. A deletion
     * of a credential that does not exist (checked against metadata caught up with every change committed before)
     * leaves that user unchanged; completes with those users once this node applied the rest. Fails with an
     * {@link AdminException}.
     */
    default CompletableFuture<Set<String>> alterScramCredentials(List<ScramCredentialChange> changes) {
        return CompletableFuture.failedFuture(new AdminException(Errors.UNSUPPORTED_VERSION,
                "SCRAM credentials are not supported"));
    }

    /** Every user with a SCRAM credential in cluster metadata, with its mechanisms and iterations. */
    default Map<String, List<ScramCredentialInfo>> scramCredentials() {
        return Map.of();
    }

    /**
     * Applies validated client quota alterations (Kafka's AlterClientQuotas: per entity, a value sets a quota, a null
     * value removes it) to cluster metadata as one change; completes once this node applied it. Fails with an
     * {@link AdminException}.
     */
    default CompletableFuture<Void> alterClientQuotas(List<ClientQuotaAlteration> alterations) {
        return CompletableFuture.failedFuture(new AdminException(Errors.UNSUPPORTED_VERSION,
                "client quotas are not supported"));
    }

    /**
     * Every client quota entity of cluster metadata with its quotas (a {@code null} entity name is Kafka's default
     * entity). The same map instance until the quotas change.
     */
    default Map<ClientQuotaEntity, Map<String, Double>> clientQuotas() {
        return Map.of();
    }

    /** This node's quota enforcement (Produce and Fetch charge their bytes to it). */
    default ClientQuotaManager quotas() {
        return ClientQuotaManager.NONE;
    }

    /** A producer id never handed out before in this cluster. */
    CompletableFuture<Long> nextProducerId();
}
