package io.fluxmq.kafka.group;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatRequestData;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatResponseData;
import org.apache.kafka.common.protocol.Errors;

/**
 * A group running the KIP-848 consumer protocol: members heartbeat their subscription, the coordinator computes a
 * target assignment with a server-side assignor whenever the group epoch moves (a member joins, leaves, changes its
 * subscription, or a subscribed topic's partition count changes), and each member reconciles towards its target.
 * A partition goes to its new owner only after the previous owner reported that it revoked it, so no partition is
 * owned twice. Time is passed in; not thread-safe (its {@link GroupShard} serializes calls).
 */
final class ConsumerGroup implements Group {
    enum State {
        EMPTY("Empty"), ASSIGNING("Assigning"), RECONCILING("Reconciling"), STABLE("Stable"), DEAD("Dead");

        final String kafkaName;

        State(String kafkaName) {
            this.kafkaName = kafkaName;
        }
    }

    private final String groupId;
    private final GroupConfig config;
    private final TopicLookup topics;
    private final Map<String, ConsumerMember> members = new LinkedHashMap<>();
    private Map<String, Map<Uuid, Set<Integer>>> targetAssignment = new TreeMap<>();
    private int groupEpoch;
    private int assignmentEpoch;
    private String assignorName;
    private Map<Uuid, Integer> subscribedPartitionCounts = Map.of();
    /** Each member's resolved subscription at the last refresh (a regex's matches change with topics and ACLs). */
    private Map<String, Set<Uuid>> resolvedSubscriptions = Map.of();
    private long stateTimestampMs;
    private boolean dead;
    /** Something the group record holds may have changed since {@link #takeDirty} last looked. */
    private boolean recordChanged;
    /** What the group record last written (or loaded) holds; null when it must be written again. */
    private GroupRecords.GroupSnapshot persisted;

    ConsumerGroup(String groupId, GroupConfig config, TopicLookup topics, long nowMs) {
        this.groupId = groupId;
        this.config = config;
        this.topics = topics;
        this.stateTimestampMs = nowMs;
        this.assignorName = config.consumerAssignors().get(0);
    }

    /**
     * A group restored from its record in the offsets topic, as Kafka's coordinator loads one: its members at their
     * epochs with what they own, must revoke and are to get, so their heartbeats go on without a rejoin. A restored
     * member's session (and revocation deadline) starts at the first {@link #tick}; until its first heartbeat here, a
     * regex subscription of it matches only the topics it resolved to before (their DESCRIBE is known only then).
     */
    static ConsumerGroup restored(String groupId, GroupConfig config, TopicLookup topics,
                                  GroupRecords.GroupSnapshot snapshot) {
        ConsumerGroup group = new ConsumerGroup(groupId, config, topics, snapshot.stateTimestampMs());
        group.groupEpoch = snapshot.generation();
        group.assignmentEpoch = snapshot.generation();
        if (snapshot.protocolName() != null) {
            group.assignorName = snapshot.protocolName();
        }
        GroupRecords.ConsumerGroupSnapshot state = snapshot.consumer();
        if (state != null) {
            group.assignmentEpoch = state.assignmentEpoch();
            group.subscribedPartitionCounts = new TreeMap<>(state.partitionCounts());
            Map<String, Set<Uuid>> resolved = new TreeMap<>();
            for (GroupRecords.ConsumerMemberSnapshot m : state.members()) {
                ConsumerMember member = new ConsumerMember(m.memberId(), m.instanceId(), m.clientId(),
                        m.clientHost(), ConsumerMember.SESSION_NOT_STARTED);
                member.rackId = m.rackId();
                member.rebalanceTimeoutMs = m.rebalanceTimeoutMs();
                member.subscribedTopicNames = m.subscribedTopicNames();
                member.subscribedTopicRegex = m.subscribedTopicRegex();
                member.serverAssignor = m.serverAssignor();
                member.memberEpoch = m.memberEpoch();
                member.previousMemberEpoch = m.previousMemberEpoch();
                member.state = ConsumerMember.State.values()[m.state()];
                member.assigned = ConsumerMember.copy(m.assigned());
                member.pendingRevocation = ConsumerMember.copy(m.pendingRevocation());
                // it may still own all of them; its next heartbeat says what it really owns
                member.reportedOwned = ConsumerMember.copy(m.assigned());
                m.pendingRevocation().forEach((topic, partitions) -> member.reportedOwned
                        .computeIfAbsent(topic, k -> new TreeSet<>()).addAll(partitions));
                Set<Uuid> ids = m.resolvedTopics();
                member.describable = name -> topics.byName(name).map(t -> ids.contains(t.id())).orElse(false);
                group.members.put(m.memberId(), member);
                group.targetAssignment.put(m.memberId(), ConsumerMember.copy(m.target()));
                resolved.put(m.memberId(), new TreeSet<>(ids));
            }
            group.resolvedSubscriptions = resolved;
        }
        group.persisted = snapshot;
        return group;
    }

    @Override
    public String groupId() {
        return groupId;
    }

    @Override
    public GroupType type() {
        return GroupType.CONSUMER;
    }

    State state() {
        if (dead) {
            return State.DEAD;
        }
        if (members.isEmpty()) {
            return State.EMPTY;
        }
        if (groupEpoch > assignmentEpoch) {
            return State.ASSIGNING;
        }
        boolean reconciled = members.values().stream().allMatch(m -> m.memberEpoch == assignmentEpoch
                && m.state == ConsumerMember.State.STABLE);
        return reconciled ? State.STABLE : State.RECONCILING;
    }

    @Override
    public String stateName() {
        return state().kafkaName;
    }

    @Override
    public boolean isEmpty() {
        return members.isEmpty();
    }

    @Override
    public long stateTimestampMs() {
        return stateTimestampMs;
    }

    @Override
    public GroupRecords.GroupSnapshot snapshot() {
        if (members.isEmpty()) {
            return new GroupRecords.GroupSnapshot(GroupType.CONSUMER, "consumer", groupEpoch, assignorName,
                    stateTimestampMs);
        }
        List<GroupRecords.ConsumerMemberSnapshot> snapshots = new ArrayList<>();
        for (ConsumerMember m : members.values()) {
            snapshots.add(new GroupRecords.ConsumerMemberSnapshot(m.memberId, m.instanceId, m.rackId, m.clientId,
                    m.clientHost, m.rebalanceTimeoutMs, m.subscribedTopicNames, m.subscribedTopicRegex,
                    m.serverAssignor, m.memberEpoch, m.previousMemberEpoch, m.state.ordinal(), m.assigned,
                    m.pendingRevocation, targetOf(m.memberId),
                    resolvedSubscriptions.getOrDefault(m.memberId, Set.of())));
        }
        return new GroupRecords.GroupSnapshot(GroupType.CONSUMER, "consumer", groupEpoch, assignorName,
                stateTimestampMs, null, List.of(), new GroupRecords.ConsumerGroupSnapshot(assignmentEpoch,
                        subscribedPartitionCounts, snapshots));
    }

    /**
     * Whether the group record changed since it was last taken: a heartbeat or a timeout may have moved an epoch, an
     * assignment or a subscription (a heartbeat that changes nothing writes nothing).
     */
    @Override
    public boolean takeDirty() {
        if (!recordChanged) {
            return false;
        }
        recordChanged = false;
        GroupRecords.GroupSnapshot now = snapshot();
        if (now.equals(persisted)) {
            return false;
        }
        persisted = now;
        return true;
    }

    @Override
    public void persistFailed() {
        persisted = null;
        recordChanged = true;
    }

    int groupEpoch() {
        return groupEpoch;
    }

    int assignmentEpoch() {
        return assignmentEpoch;
    }

    String assignorName() {
        return assignorName;
    }

    Map<String, ConsumerMember> members() {
        return members;
    }

    Map<Uuid, Set<Integer>> targetOf(String memberId) {
        return targetAssignment.getOrDefault(memberId, Map.of());
    }

    // ---------------------------------------------------------------- ConsumerGroupHeartbeat

    /** {@code describable}: the topics the member's principal may DESCRIBE, which bounds what its regex matches. */
    ConsumerGroupHeartbeatResponseData heartbeat(ConsumerGroupHeartbeatRequestData request, short version,
                                                 String clientId, String clientHost, Predicate<String> describable,
                                                 long nowMs) {
        String assignor = request.serverAssignor();
        if (assignor != null && !config.consumerAssignors().contains(assignor)) {
            return error(Errors.UNSUPPORTED_ASSIGNOR, "assignor " + assignor + " is not one of "
                    + config.consumerAssignors());
        }
        if (request.subscribedTopicRegex() != null) {
            try {
                Pattern.compile(request.subscribedTopicRegex());
            } catch (PatternSyntaxException e) {
                return error(Errors.INVALID_REGULAR_EXPRESSION, e.getMessage());
            }
        }
        int epoch = request.memberEpoch();
        ConsumerMember member;
        boolean changed = false;
        if (epoch == 0) {
            if (request.rebalanceTimeoutMs() < 0
                    || (request.subscribedTopicNames() == null && request.subscribedTopicRegex() == null)) {
                return error(Errors.INVALID_REQUEST, "the first heartbeat must carry RebalanceTimeoutMs and a "
                        + "subscription");
            }
            String memberId = request.memberId();
            if (memberId == null || memberId.isEmpty()) {
                if (version >= 1) {
                    return error(Errors.INVALID_REQUEST, "MemberId must be set from version 1");
                }
                memberId = Uuid.randomUuid().toString();
            }
            if (request.instanceId() != null) {
                for (ConsumerMember other : List.copyOf(members.values())) {
                    if (request.instanceId().equals(other.instanceId) && !other.memberId.equals(memberId)) {
                        removeMember(other.memberId, nowMs);
                    }
                }
            }
            members.remove(memberId);
            if (members.size() >= config.maxGroupSize()) {
                return error(Errors.GROUP_MAX_SIZE_REACHED, "group " + groupId + " is full");
            }
            member = new ConsumerMember(memberId, request.instanceId(), clientId, clientHost, nowMs);
            members.put(memberId, member);
            if (members.size() == 1) {
                stateTimestampMs = nowMs;
            }
            changed = true;
        } else if (epoch < 0) {
            if (!members.containsKey(request.memberId())) {
                return error(Errors.UNKNOWN_MEMBER_ID, null);
            }
            removeMember(request.memberId(), nowMs);
            return new ConsumerGroupHeartbeatResponseData().setMemberId(request.memberId()).setMemberEpoch(epoch)
                    .setHeartbeatIntervalMs(0);
        } else {
            member = members.get(request.memberId());
            if (member == null) {
                return error(Errors.UNKNOWN_MEMBER_ID, "member " + request.memberId() + " is not in group " + groupId);
            }
            if (epoch != member.memberEpoch && !(epoch == member.previousMemberEpoch
                    && request.topicPartitions() != null
                    && ConsumerMember.subsetOf(owned(request), member.assigned))) {
                return error(Errors.FENCED_MEMBER_EPOCH, "epoch " + epoch + " is not the member's epoch "
                        + member.memberEpoch);
            }
        }
        recordChanged = true;
        member.lastHeartbeatMs = nowMs;
        member.describable = describable;
        if (request.rebalanceTimeoutMs() >= 0) {
            member.rebalanceTimeoutMs = request.rebalanceTimeoutMs();
        }
        if (request.rackId() != null) {
            member.rackId = request.rackId();
        }
        if (assignor != null && !assignor.equals(member.serverAssignor)) {
            member.serverAssignor = assignor;
            changed = true;
        }
        if (request.subscribedTopicNames() != null
                && !request.subscribedTopicNames().equals(member.subscribedTopicNames)) {
            member.subscribedTopicNames = List.copyOf(request.subscribedTopicNames());
            changed = true;
        }
        if (version >= 1 && request.subscribedTopicRegex() != null
                && !request.subscribedTopicRegex().equals(member.subscribedTopicRegex)) {
            member.subscribedTopicRegex = request.subscribedTopicRegex().isEmpty() ? null
                    : request.subscribedTopicRegex();
            changed = true;
        }
        if (request.topicPartitions() != null) {
            member.reportedOwned = owned(request);
        }
        if (changed) {
            bumpEpoch(nowMs);
        }
        refreshTargetAssignment(nowMs);
        reconcile(member, nowMs);
        return response(member);
    }

    private ConsumerGroupHeartbeatResponseData response(ConsumerMember member) {
        ConsumerGroupHeartbeatResponseData.Assignment assignment = new ConsumerGroupHeartbeatResponseData.Assignment();
        member.assigned.forEach((topic, partitions) -> assignment.topicPartitions().add(
                new ConsumerGroupHeartbeatResponseData.TopicPartitions().setTopicId(topic)
                        .setPartitions(new ArrayList<>(partitions))));
        return new ConsumerGroupHeartbeatResponseData().setMemberId(member.memberId)
                .setMemberEpoch(member.memberEpoch)
                .setHeartbeatIntervalMs((int) config.consumerHeartbeatInterval().toMillis())
                .setAssignment(assignment);
    }

    private static ConsumerGroupHeartbeatResponseData error(Errors error, String message) {
        return new ConsumerGroupHeartbeatResponseData().setErrorCode(error.code())
                .setErrorMessage(message == null ? error.message() : message).setMemberId(null).setMemberEpoch(-1)
                .setAssignment(null);
    }

    private static Map<Uuid, Set<Integer>> owned(ConsumerGroupHeartbeatRequestData request) {
        Map<Uuid, Set<Integer>> out = new TreeMap<>();
        for (ConsumerGroupHeartbeatRequestData.TopicPartitions tp : request.topicPartitions()) {
            out.computeIfAbsent(tp.topicId(), k -> new TreeSet<>()).addAll(tp.partitions());
        }
        return out;
    }

    /** Whether a commit or offset fetch carrying this member and epoch is current. */
    Errors validateMemberEpoch(String memberId, int epoch) {
        ConsumerMember member = members.get(memberId);
        if (member == null) {
            return Errors.UNKNOWN_MEMBER_ID;
        }
        if (epoch > member.memberEpoch) {
            return Errors.FENCED_MEMBER_EPOCH;
        }
        return epoch < member.memberEpoch ? Errors.STALE_MEMBER_EPOCH : Errors.NONE;
    }

    /** Topic names the members subscribe to (names and regex matches) that exist. */
    Set<String> subscribedTopics() {
        Set<String> out = new HashSet<>();
        for (ConsumerMember m : members.values()) {
            resolve(m).forEach(t -> out.add(t.name()));
        }
        return out;
    }

    private List<TopicLookup.Topic> resolve(ConsumerMember member) {
        List<TopicLookup.Topic> out = new ArrayList<>();
        for (String name : member.subscribedTopicNames) {
            topics.byName(name).ifPresent(out::add);
        }
        if (member.subscribedTopicRegex != null) {
            Pattern regex = Pattern.compile(member.subscribedTopicRegex);
            for (TopicLookup.Topic t : topics.all()) {
                if (!t.internal() && regex.matcher(t.name()).matches() && !out.contains(t)
                        && member.describable.test(t.name())) {
                    out.add(t);
                }
            }
        }
        return out;
    }

    private void bumpEpoch(long nowMs) {
        groupEpoch++;
        recordChanged = true;
    }

    /**
     * Recomputes the target assignment when the group epoch moved, a subscribed topic changed size, or a member's
     * resolved subscription changed (a topic its regex matches was created or deleted, or its DESCRIBE was granted or
     * revoked).
     */
    private void refreshTargetAssignment(long nowMs) {
        Map<String, Assignors.MemberSpec> specs = new TreeMap<>();
        Map<Uuid, Integer> counts = new TreeMap<>();
        Map<String, Set<Uuid>> resolved = new TreeMap<>();
        for (ConsumerMember m : members.values()) {
            Set<Uuid> ids = new TreeSet<>();
            for (TopicLookup.Topic t : resolve(m)) {
                ids.add(t.id());
                counts.put(t.id(), t.partitions());
            }
            resolved.put(m.memberId, ids);
            specs.put(m.memberId, new Assignors.MemberSpec(m.instanceId != null ? m.instanceId : m.memberId, ids,
                    m.assigned));
        }
        if (!counts.equals(subscribedPartitionCounts) || !resolved.equals(resolvedSubscriptions)) {
            subscribedPartitionCounts = counts;
            resolvedSubscriptions = resolved;
            if (groupEpoch == assignmentEpoch) {
                bumpEpoch(nowMs);
            }
        }
        if (groupEpoch == assignmentEpoch) {
            return;
        }
        assignorName = members.values().stream().map(m -> m.serverAssignor).filter(a -> a != null).findFirst()
                .orElse(config.consumerAssignors().get(0));
        targetAssignment = Assignors.assign(assignorName, specs, counts);
        assignmentEpoch = groupEpoch;
    }

    /**
     * Moves a member towards its target: first it gives up what it must not keep (its epoch stays until it reports
     * the revocation), then it gets the current epoch and every target partition no other member still holds.
     */
    private void reconcile(ConsumerMember member, long nowMs) {
        Map<Uuid, Set<Integer>> target = targetOf(member.memberId);
        if (member.state == ConsumerMember.State.UNREVOKED_PARTITIONS) {
            if (!ConsumerMember.subsetOf(member.reportedOwned, member.assigned)) {
                moveToRevocation(member, target);
                return;
            }
            member.pendingRevocation.clear();
            member.state = ConsumerMember.State.STABLE;
        }
        if (member.memberEpoch == assignmentEpoch && member.state == ConsumerMember.State.STABLE) {
            return;
        }
        if (moveToRevocation(member, target)) {
            member.state = ConsumerMember.State.UNREVOKED_PARTITIONS;
            member.revocationDeadlineMs = nowMs + Math.max(member.rebalanceTimeoutMs, 0);
            return;
        }
        boolean unreleased = false;
        for (Map.Entry<Uuid, Set<Integer>> e : target.entrySet()) {
            for (int p : e.getValue()) {
                if (ConsumerMember.contains(member.assigned, e.getKey(), p)) {
                    continue;
                }
                if (ownedByOther(member, e.getKey(), p)) {
                    unreleased = true;
                } else {
                    member.assigned.computeIfAbsent(e.getKey(), k -> new TreeSet<>()).add(p);
                }
            }
        }
        if (member.memberEpoch != assignmentEpoch) {
            member.previousMemberEpoch = member.memberEpoch;
            member.memberEpoch = assignmentEpoch;
        }
        member.state = unreleased ? ConsumerMember.State.UNRELEASED_PARTITIONS : ConsumerMember.State.STABLE;
    }

    /** Moves assigned partitions outside the target to pending revocation; true when there were any. */
    private static boolean moveToRevocation(ConsumerMember member, Map<Uuid, Set<Integer>> target) {
        boolean any = false;
        for (Map.Entry<Uuid, Set<Integer>> e : member.assigned.entrySet()) {
            Set<Integer> keep = target.getOrDefault(e.getKey(), Set.of());
            for (int p : List.copyOf(e.getValue())) {
                if (!keep.contains(p)) {
                    e.getValue().remove(p);
                    member.pendingRevocation.computeIfAbsent(e.getKey(), k -> new TreeSet<>()).add(p);
                    any = true;
                }
            }
        }
        member.assigned.values().removeIf(Set::isEmpty);
        return any;
    }

    private boolean ownedByOther(ConsumerMember member, Uuid topic, int partition) {
        for (ConsumerMember other : members.values()) {
            if (other != member && other.owns(topic, partition)) {
                return true;
            }
        }
        return false;
    }

    private void removeMember(String memberId, long nowMs) {
        members.remove(memberId);
        targetAssignment.remove(memberId);
        bumpEpoch(nowMs);
        if (members.isEmpty()) {
            stateTimestampMs = nowMs;
        }
    }

    @Override
    public void tick(long nowMs) {
        boolean removed = false;
        for (ConsumerMember m : members.values()) {
            if (m.lastHeartbeatMs == ConsumerMember.SESSION_NOT_STARTED) {
                m.lastHeartbeatMs = nowMs; // restored by a new coordinator: the session counts from here
                if (m.state == ConsumerMember.State.UNREVOKED_PARTITIONS) {
                    m.revocationDeadlineMs = nowMs + Math.max(m.rebalanceTimeoutMs, 0);
                }
            }
        }
        for (ConsumerMember m : List.copyOf(members.values())) {
            boolean sessionOver = nowMs - m.lastHeartbeatMs > config.consumerSessionTimeout().toMillis();
            boolean revocationOver = m.state == ConsumerMember.State.UNREVOKED_PARTITIONS
                    && nowMs > m.revocationDeadlineMs;
            if (sessionOver || revocationOver) {
                removeMember(m.memberId, nowMs);
                removed = true;
            }
        }
        if (removed) {
            refreshTargetAssignment(nowMs);
        }
    }

    @Override
    public void unload(Errors error) {
        dead = true;
    }

    Optional<ConsumerMember> member(String memberId) {
        return Optional.ofNullable(members.get(memberId));
    }
}
