package io.fluxmq.kafka.group;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.JoinGroupResponseData;
import org.apache.kafka.common.message.SyncGroupResponseData;
import org.apache.kafka.common.protocol.Errors;

/**
 * A group running the classic rebalance protocol (JoinGroup, SyncGroup, Heartbeat, LeaveGroup). Time is passed in
 * ({@code nowMs}) and timeouts fire from {@link #tick}, so tests drive it deterministically. Not thread-safe: its
 * {@link GroupShard} serializes every call. Waiting JoinGroup/SyncGroup requests are futures completed here.
 *
 * <p>States, as Kafka names them: {@code Empty} → (a member joins) {@code PreparingRebalance} → (every member rejoined,
 * or the rebalance timeout passed) {@code CompletingRebalance} → (the leader's SyncGroup) {@code Stable}; a join of a
 * new member, a changed subscription, a leave or an expired session goes back to {@code PreparingRebalance}.
 */
final class ClassicGroup implements Group {
    enum State {
        EMPTY("Empty"), PREPARING_REBALANCE("PreparingRebalance"), COMPLETING_REBALANCE("CompletingRebalance"),
        STABLE("Stable"), DEAD("Dead");

        final String kafkaName;

        State(String kafkaName) {
            this.kafkaName = kafkaName;
        }
    }

    /** One JoinGroup as the coordinator received it. */
    record Join(String memberId, String instanceId, String clientId, String clientHost, int sessionTimeoutMs,
                int rebalanceTimeoutMs, String protocolType, Map<String, byte[]> protocols, short version) {}

    private final String groupId;
    private final GroupConfig config;
    private State state = State.EMPTY;
    private long stateTimestampMs;
    private int generation;
    private String protocolType;
    private String protocolName;
    private String leaderId;
    private final Map<String, ClassicMember> members = new LinkedHashMap<>();
    private final Map<String, String> staticMembers = new HashMap<>();
    /** Member ids handed out with MEMBER_ID_REQUIRED, until the member joins with it or its session passes. */
    private final Map<String, Long> pendingMembers = new HashMap<>();
    private long rebalanceDeadlineMs;
    private long initialDelayLimitMs = -1;
    private boolean dirty;

    ClassicGroup(String groupId, GroupConfig config, long nowMs) {
        this.groupId = groupId;
        this.config = config;
        this.stateTimestampMs = nowMs;
    }

    /**
     * A group restored from its record in the offsets topic. A group written in Stable comes back Stable with its
     * leader, members and assignments (as Kafka loads a group), so they go on heartbeating and committing in their
     * generation; their sessions start at the first {@link #tick} (Kafka reschedules every loaded member's heartbeat
     * from the load). Any other group comes back empty, at its generation, and its members rejoin.
     */
    static ClassicGroup restored(String groupId, GroupConfig config, GroupRecords.GroupSnapshot snapshot) {
        ClassicGroup group = new ClassicGroup(groupId, config, snapshot.stateTimestampMs());
        group.generation = snapshot.generation();
        group.protocolType = snapshot.protocolType();
        if (snapshot.members().isEmpty()) {
            return group;
        }
        for (GroupRecords.MemberSnapshot m : snapshot.members()) {
            ClassicMember member = new ClassicMember(m.memberId(), m.instanceId(), m.clientId(), m.clientHost(),
                    m.sessionTimeoutMs(), m.rebalanceTimeoutMs(), m.protocols(), ClassicMember.SESSION_NOT_STARTED);
            member.assignment = m.assignment();
            group.members.put(m.memberId(), member);
            if (m.instanceId() != null) {
                group.staticMembers.put(m.instanceId(), m.memberId());
            }
        }
        group.protocolName = snapshot.protocolName();
        group.leaderId = snapshot.leaderId();
        group.state = State.STABLE;
        return group;
    }

    @Override
    public String groupId() {
        return groupId;
    }

    @Override
    public GroupType type() {
        return GroupType.CLASSIC;
    }

    @Override
    public String stateName() {
        return state.kafkaName;
    }

    @Override
    public boolean isEmpty() {
        return members.isEmpty() && pendingMembers.isEmpty();
    }

    @Override
    public long stateTimestampMs() {
        return stateTimestampMs;
    }

    @Override
    public boolean takeDirty() {
        boolean was = dirty;
        dirty = false;
        return was;
    }

    @Override
    public void persistFailed() {
        dirty = true;
    }

    @Override
    public GroupRecords.GroupSnapshot snapshot() {
        if (state != State.STABLE || members.isEmpty()) {
            return new GroupRecords.GroupSnapshot(GroupType.CLASSIC, protocolType, generation, protocolName,
                    stateTimestampMs);
        }
        List<GroupRecords.MemberSnapshot> snapshots = new ArrayList<>();
        for (ClassicMember m : members.values()) {
            snapshots.add(new GroupRecords.MemberSnapshot(m.memberId, m.instanceId, m.clientId, m.clientHost,
                    m.sessionTimeoutMs, m.rebalanceTimeoutMs, m.protocols, m.assignment));
        }
        return new GroupRecords.GroupSnapshot(GroupType.CLASSIC, protocolType, generation, protocolName,
                stateTimestampMs, leaderId, snapshots);
    }

    State state() {
        return state;
    }

    int generation() {
        return generation;
    }

    String protocolType() {
        return protocolType;
    }

    String protocolName() {
        return protocolName;
    }

    String leaderId() {
        return leaderId;
    }

    Map<String, ClassicMember> members() {
        return members;
    }

    // ---------------------------------------------------------------- JoinGroup

    CompletableFuture<JoinGroupResponseData> join(Join join, long nowMs) {
        if (join.sessionTimeoutMs() < config.minSessionTimeout().toMillis()
                || join.sessionTimeoutMs() > config.maxSessionTimeout().toMillis()) {
            return joinError(join.memberId(), Errors.INVALID_SESSION_TIMEOUT);
        }
        if (join.protocols().isEmpty() || join.protocolType() == null || join.protocolType().isEmpty()) {
            return joinError(join.memberId(), Errors.INCONSISTENT_GROUP_PROTOCOL);
        }
        if (!members.isEmpty()
                && (!join.protocolType().equals(protocolType) || !supportsAny(join.protocols().keySet()))) {
            return joinError(join.memberId(), Errors.INCONSISTENT_GROUP_PROTOCOL);
        }
        if (join.memberId().isEmpty()) {
            return joinUnknownMember(join, nowMs);
        }
        if (pendingMembers.remove(join.memberId()) != null) {
            return addMemberAndRebalance(join, join.memberId(), nowMs);
        }
        ClassicMember member = members.get(join.memberId());
        if (member == null) {
            return joinError(join.memberId(), Errors.UNKNOWN_MEMBER_ID);
        }
        if (join.instanceId() != null && !join.memberId().equals(staticMembers.get(join.instanceId()))) {
            return joinError(join.memberId(), Errors.FENCED_INSTANCE_ID);
        }
        member.lastHeartbeatMs = nowMs;
        member.sessionTimeoutMs = join.sessionTimeoutMs();
        member.rebalanceTimeoutMs = join.rebalanceTimeoutMs();
        boolean changed = !member.sameProtocols(join.protocols());
        switch (state) {
            case COMPLETING_REBALANCE -> {
                if (!changed) {
                    return CompletableFuture.completedFuture(joinResponse(member, true));
                }
            }
            case STABLE -> {
                if (!changed && !member.memberId.equals(leaderId)) {
                    return CompletableFuture.completedFuture(joinResponse(member, false));
                }
            }
            default -> {
            }
        }
        member.protocols = new LinkedHashMap<>(join.protocols());
        return awaitRebalance(member, nowMs);
    }

    private CompletableFuture<JoinGroupResponseData> joinUnknownMember(Join join, long nowMs) {
        String newMemberId = join.clientId() + "-" + UUID.randomUUID();
        if (join.instanceId() != null) {
            String existingId = staticMembers.get(join.instanceId());
            if (existingId != null) {
                return rejoinStatic(members.get(existingId), newMemberId, join, nowMs);
            }
            return addMemberAndRebalance(join, newMemberId, nowMs);
        }
        if (join.version() >= 4) {
            pendingMembers.put(newMemberId, nowMs + join.sessionTimeoutMs());
            return CompletableFuture.completedFuture(new JoinGroupResponseData().setMemberId(newMemberId)
                    .setGenerationId(-1).setProtocolName(null).setLeader("")
                    .setErrorCode(Errors.MEMBER_ID_REQUIRED.code()));
        }
        return addMemberAndRebalance(join, newMemberId, nowMs);
    }

    /** A static member that restarted: it takes over its old identity (fencing the old member id). */
    private CompletableFuture<JoinGroupResponseData> rejoinStatic(ClassicMember member, String newMemberId, Join join,
                                                                   long nowMs) {
        String oldId = member.memberId;
        members.remove(oldId);
        if (member.joinWaiter != null) {
            member.joinWaiter.complete(joinErrorData(oldId, Errors.FENCED_INSTANCE_ID));
            member.joinWaiter = null;
        }
        if (member.syncWaiter != null) {
            member.syncWaiter.complete(new SyncGroupResponseData().setErrorCode(Errors.FENCED_INSTANCE_ID.code()));
            member.syncWaiter = null;
        }
        member.memberId = newMemberId;
        members.put(newMemberId, member);
        staticMembers.put(join.instanceId(), newMemberId);
        boolean wasLeader = oldId.equals(leaderId);
        if (wasLeader) {
            leaderId = newMemberId;
        }
        member.lastHeartbeatMs = nowMs;
        member.sessionTimeoutMs = join.sessionTimeoutMs();
        member.rebalanceTimeoutMs = join.rebalanceTimeoutMs();
        boolean changed = !member.sameProtocols(join.protocols());
        if (state == State.STABLE && !changed && (!wasLeader || join.version() >= 9)) {
            dirty = true; // the group record names the member by its new id
            JoinGroupResponseData response = joinResponse(member, wasLeader);
            return CompletableFuture.completedFuture(response.setSkipAssignment(wasLeader));
        }
        member.protocols = new LinkedHashMap<>(join.protocols());
        return awaitRebalance(member, nowMs);
    }

    private CompletableFuture<JoinGroupResponseData> addMemberAndRebalance(Join join, String memberId, long nowMs) {
        if (members.size() >= config.maxGroupSize()) {
            return joinError(memberId, Errors.GROUP_MAX_SIZE_REACHED);
        }
        if (members.isEmpty()) {
            protocolType = join.protocolType();
        }
        ClassicMember member = new ClassicMember(memberId, join.instanceId(), join.clientId(), join.clientHost(),
                join.sessionTimeoutMs(), join.rebalanceTimeoutMs(), join.protocols(), nowMs);
        members.put(memberId, member);
        if (join.instanceId() != null) {
            staticMembers.put(join.instanceId(), memberId);
        }
        if (state == State.PREPARING_REBALANCE && initialDelayLimitMs >= 0) {
            rebalanceDeadlineMs = Math.min(nowMs + config.initialRebalanceDelay().toMillis(), initialDelayLimitMs);
        }
        return awaitRebalance(member, nowMs);
    }

    private CompletableFuture<JoinGroupResponseData> awaitRebalance(ClassicMember member, long nowMs) {
        if (member.joinWaiter != null) {
            member.joinWaiter.complete(joinErrorData(member.memberId, Errors.REBALANCE_IN_PROGRESS));
        }
        CompletableFuture<JoinGroupResponseData> waiter = new CompletableFuture<>();
        member.joinWaiter = waiter;
        if (state != State.PREPARING_REBALANCE) {
            prepareRebalance(nowMs);
        }
        maybeCompleteJoin(nowMs);
        return waiter;
    }

    private void prepareRebalance(long nowMs) {
        if (state == State.COMPLETING_REBALANCE) {
            for (ClassicMember m : members.values()) {
                if (m.syncWaiter != null) {
                    m.syncWaiter.complete(new SyncGroupResponseData()
                            .setErrorCode(Errors.REBALANCE_IN_PROGRESS.code()));
                    m.syncWaiter = null;
                }
            }
        }
        boolean fresh = state == State.EMPTY;
        transition(State.PREPARING_REBALANCE, nowMs);
        long rebalanceTimeout = members.values().stream().mapToLong(m -> m.rebalanceTimeoutMs).max().orElse(0);
        if (fresh && config.initialRebalanceDelay().toMillis() > 0) {
            initialDelayLimitMs = nowMs + Math.max(rebalanceTimeout, config.initialRebalanceDelay().toMillis());
            rebalanceDeadlineMs = Math.min(nowMs + config.initialRebalanceDelay().toMillis(), initialDelayLimitMs);
        } else {
            initialDelayLimitMs = -1;
            rebalanceDeadlineMs = nowMs + rebalanceTimeout;
        }
        if (members.isEmpty()) {
            completeJoin(nowMs);
        }
    }

    private void maybeCompleteJoin(long nowMs) {
        if (state == State.PREPARING_REBALANCE && initialDelayLimitMs < 0 && pendingMembers.isEmpty()
                && members.values().stream().allMatch(m -> m.joinWaiter != null)) {
            completeJoin(nowMs);
        }
    }

    private void completeJoin(long nowMs) {
        initialDelayLimitMs = -1;
        for (ClassicMember m : List.copyOf(members.values())) {
            if (m.joinWaiter == null && !m.isStatic()) {
                removeMember(m, Errors.UNKNOWN_MEMBER_ID);
            }
        }
        generation++;
        dirty = true;
        if (members.isEmpty()) {
            protocolName = null;
            leaderId = null;
            transition(State.EMPTY, nowMs);
            return;
        }
        protocolName = selectProtocol();
        if (leaderId == null || !members.containsKey(leaderId)) {
            leaderId = members.values().stream().filter(m -> m.joinWaiter != null).findFirst()
                    .orElse(members.values().iterator().next()).memberId;
        }
        transition(State.COMPLETING_REBALANCE, nowMs);
        rebalanceDeadlineMs = nowMs + members.values().stream().mapToLong(m -> m.rebalanceTimeoutMs).max().orElse(0);
        for (ClassicMember m : members.values()) {
            m.assignment = new byte[0];
            m.lastHeartbeatMs = nowMs;
            if (m.joinWaiter != null) {
                CompletableFuture<JoinGroupResponseData> waiter = m.joinWaiter;
                m.joinWaiter = null;
                waiter.complete(joinResponse(m, true));
            }
        }
    }

    /** The protocol every member supports that most members prefer (first in their list). */
    private String selectProtocol() {
        List<String> candidates = null;
        for (ClassicMember m : members.values()) {
            if (candidates == null) {
                candidates = new ArrayList<>(m.protocols.keySet());
            } else {
                candidates.retainAll(m.protocols.keySet());
            }
        }
        Map<String, Integer> votes = new LinkedHashMap<>();
        candidates.forEach(c -> votes.put(c, 0));
        for (ClassicMember m : members.values()) {
            m.protocols.keySet().stream().filter(votes::containsKey).findFirst()
                    .ifPresent(p -> votes.merge(p, 1, Integer::sum));
        }
        return votes.entrySet().stream().max(Map.Entry.comparingByValue()).map(Map.Entry::getKey).orElseThrow();
    }

    private boolean supportsAny(Set<String> protocols) {
        return members.values().stream().allMatch(m -> m.protocols.keySet().stream().anyMatch(protocols::contains));
    }

    /** The JoinGroup answer for the current generation; the leader gets every member's metadata if asked. */
    private JoinGroupResponseData joinResponse(ClassicMember member, boolean includeMembersIfLeader) {
        JoinGroupResponseData response = new JoinGroupResponseData().setGenerationId(generation)
                .setProtocolType(protocolType).setProtocolName(protocolName).setLeader(leaderId)
                .setMemberId(member.memberId);
        if (includeMembersIfLeader && member.memberId.equals(leaderId)) {
            for (ClassicMember m : members.values()) {
                response.members().add(new JoinGroupResponseData.JoinGroupResponseMember().setMemberId(m.memberId)
                        .setGroupInstanceId(m.instanceId).setMetadata(m.protocols.get(protocolName)));
            }
        }
        return response;
    }

    private static CompletableFuture<JoinGroupResponseData> joinError(String memberId, Errors error) {
        return CompletableFuture.completedFuture(joinErrorData(memberId, error));
    }

    private static JoinGroupResponseData joinErrorData(String memberId, Errors error) {
        return new JoinGroupResponseData().setErrorCode(error.code()).setGenerationId(-1).setProtocolName(null)
                .setLeader("").setMemberId(memberId == null ? "" : memberId);
    }

    // ---------------------------------------------------------------- SyncGroup

    CompletableFuture<SyncGroupResponseData> sync(String memberId, String instanceId, int generationId,
                                                  String protocolType, String protocolName,
                                                  Map<String, byte[]> assignments, long nowMs) {
        Errors error = validateMember(memberId, instanceId, generationId);
        if (error != Errors.NONE) {
            return syncError(error);
        }
        if ((protocolType != null && !protocolType.equals(this.protocolType))
                || (protocolName != null && !protocolName.equals(this.protocolName))) {
            return syncError(Errors.INCONSISTENT_GROUP_PROTOCOL);
        }
        ClassicMember member = members.get(memberId);
        member.lastHeartbeatMs = nowMs;
        switch (state) {
            case PREPARING_REBALANCE:
                return syncError(Errors.REBALANCE_IN_PROGRESS);
            case STABLE:
                return CompletableFuture.completedFuture(syncResponse(member));
            case COMPLETING_REBALANCE:
                break;
            default:
                return syncError(Errors.UNKNOWN_MEMBER_ID);
        }
        CompletableFuture<SyncGroupResponseData> waiter = new CompletableFuture<>();
        if (member.syncWaiter != null) {
            member.syncWaiter.complete(new SyncGroupResponseData().setErrorCode(Errors.REBALANCE_IN_PROGRESS.code()));
        }
        member.syncWaiter = waiter;
        if (memberId.equals(leaderId)) {
            for (ClassicMember m : members.values()) {
                byte[] assignment = assignments.get(m.memberId);
                m.assignment = assignment == null ? new byte[0] : assignment;
            }
            transition(State.STABLE, nowMs);
            dirty = true;
            for (ClassicMember m : members.values()) {
                m.lastHeartbeatMs = nowMs;
                if (m.syncWaiter != null) {
                    CompletableFuture<SyncGroupResponseData> w = m.syncWaiter;
                    m.syncWaiter = null;
                    w.complete(syncResponse(m));
                }
            }
        }
        return waiter;
    }

    private SyncGroupResponseData syncResponse(ClassicMember member) {
        return new SyncGroupResponseData().setProtocolType(protocolType).setProtocolName(protocolName)
                .setAssignment(member.assignment);
    }

    private static CompletableFuture<SyncGroupResponseData> syncError(Errors error) {
        return CompletableFuture.completedFuture(new SyncGroupResponseData().setErrorCode(error.code())
                .setAssignment(new byte[0]));
    }

    // ---------------------------------------------------------------- Heartbeat, LeaveGroup, commits

    Errors heartbeat(String memberId, String instanceId, int generationId, long nowMs) {
        Errors error = validateMember(memberId, instanceId, generationId);
        if (error != Errors.NONE) {
            return error;
        }
        members.get(memberId).lastHeartbeatMs = nowMs;
        return state == State.PREPARING_REBALANCE ? Errors.REBALANCE_IN_PROGRESS : Errors.NONE;
    }

    /** Removes a member (by member id, or by instance id when it is set); the rest rebalance. */
    Errors leave(String memberId, String instanceId, long nowMs) {
        ClassicMember member;
        if (instanceId != null) {
            String current = staticMembers.get(instanceId);
            if (current == null) {
                return Errors.UNKNOWN_MEMBER_ID;
            }
            if (!memberId.isEmpty() && !memberId.equals(current)) {
                return Errors.FENCED_INSTANCE_ID;
            }
            member = members.get(current);
        } else {
            if (pendingMembers.remove(memberId) != null) {
                maybeCompleteJoin(nowMs);
                return Errors.NONE;
            }
            member = members.get(memberId);
            if (member == null) {
                return Errors.UNKNOWN_MEMBER_ID;
            }
        }
        removeMember(member, Errors.UNKNOWN_MEMBER_ID);
        afterMemberLoss(nowMs);
        return Errors.NONE;
    }

    /** Whether an offset commit from this member and generation may be applied now. */
    Errors validateCommit(String memberId, String instanceId, int generationId, long nowMs) {
        if (generationId < 0 && (memberId == null || memberId.isEmpty()) && instanceId == null) {
            return members.isEmpty() ? Errors.NONE : Errors.UNKNOWN_MEMBER_ID;
        }
        Errors error = validateMember(memberId, instanceId, generationId);
        if (error != Errors.NONE) {
            return error;
        }
        if (state == State.COMPLETING_REBALANCE) {
            return Errors.REBALANCE_IN_PROGRESS;
        }
        members.get(memberId).lastHeartbeatMs = nowMs;
        return Errors.NONE;
    }

    private Errors validateMember(String memberId, String instanceId, int generationId) {
        ClassicMember member = memberId == null ? null : members.get(memberId);
        if (instanceId != null) {
            String current = staticMembers.get(instanceId);
            if (current != null && !current.equals(memberId)) {
                return Errors.FENCED_INSTANCE_ID;
            }
        }
        if (member == null) {
            return Errors.UNKNOWN_MEMBER_ID;
        }
        if (generationId != generation) {
            return Errors.ILLEGAL_GENERATION;
        }
        return Errors.NONE;
    }

    /** Topics the members subscribe to, when the group runs the consumer protocol type; null when not known. */
    Set<String> subscribedTopics() {
        if (!"consumer".equals(protocolType) || protocolName == null) {
            return null;
        }
        Set<String> topics = new java.util.HashSet<>();
        for (ClassicMember m : members.values()) {
            byte[] metadata = m.protocols.get(protocolName);
            try {
                topics.addAll(org.apache.kafka.clients.consumer.internals.ConsumerProtocol
                        .deserializeSubscription(java.nio.ByteBuffer.wrap(metadata)).topics());
            } catch (RuntimeException e) {
                return null;
            }
        }
        return topics;
    }

    // ---------------------------------------------------------------- time

    @Override
    public void tick(long nowMs) {
        for (ClassicMember m : members.values()) {
            if (m.lastHeartbeatMs == ClassicMember.SESSION_NOT_STARTED) {
                m.lastHeartbeatMs = nowMs; // restored by a new coordinator: the session counts from here
            }
        }
        pendingMembers.values().removeIf(deadline -> deadline <= nowMs);
        boolean lost = false;
        for (ClassicMember m : List.copyOf(members.values())) {
            if (m.sessionExpired(nowMs)) {
                removeMember(m, Errors.UNKNOWN_MEMBER_ID);
                lost = true;
            }
        }
        if (state == State.PREPARING_REBALANCE && nowMs >= rebalanceDeadlineMs) {
            completeJoin(nowMs);
        } else if (state == State.COMPLETING_REBALANCE && nowMs >= rebalanceDeadlineMs) {
            for (ClassicMember m : List.copyOf(members.values())) {
                if (m.syncWaiter == null) {
                    removeMember(m, Errors.UNKNOWN_MEMBER_ID);
                }
            }
            prepareRebalance(nowMs);
        } else if (lost) {
            afterMemberLoss(nowMs);
        } else {
            maybeCompleteJoin(nowMs);
        }
    }

    private void afterMemberLoss(long nowMs) {
        if (state == State.STABLE || state == State.COMPLETING_REBALANCE) {
            prepareRebalance(nowMs);
        } else if (state == State.PREPARING_REBALANCE) {
            if (members.isEmpty()) {
                completeJoin(nowMs);
            } else {
                maybeCompleteJoin(nowMs);
            }
        }
    }

    private void removeMember(ClassicMember member, Errors error) {
        members.remove(member.memberId);
        if (member.instanceId != null) {
            staticMembers.remove(member.instanceId, member.memberId);
        }
        if (member.joinWaiter != null) {
            member.joinWaiter.complete(joinErrorData(member.memberId, error));
            member.joinWaiter = null;
        }
        if (member.syncWaiter != null) {
            member.syncWaiter.complete(new SyncGroupResponseData().setErrorCode(error.code()));
            member.syncWaiter = null;
        }
        if (member.memberId.equals(leaderId)) {
            leaderId = null;
        }
    }

    /** Fails every waiting request; used when this node stops coordinating the group. */
    @Override
    public void unload(org.apache.kafka.common.protocol.Errors error) {
        for (ClassicMember m : members.values()) {
            if (m.joinWaiter != null) {
                m.joinWaiter.complete(joinErrorData(m.memberId, error));
            }
            if (m.syncWaiter != null) {
                m.syncWaiter.complete(new SyncGroupResponseData().setErrorCode(error.code()));
            }
        }
        transition(State.DEAD, stateTimestampMs);
    }

    private void transition(State next, long nowMs) {
        if (state != next) {
            state = next;
            stateTimestampMs = nowMs;
        }
    }
}
