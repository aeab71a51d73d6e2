package io.fluxmq.raftcore;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The Raft algorithm of one member of one group, as a state machine without threads, clocks or I/O: the driver feeds
 * it time ({@link #tick}), messages ({@link #receive}) and proposals ({@link #propose}), and carries out what
 * {@link #ready()} asks (send, persist, apply). Time and randomness come from the caller, so a run is a function of its
 * inputs and a simulation replays from its seed ({@code RaftSimulationTest}).
 *
 * <p>What it implements: leader election with pre-vote and check quorum (a member cut off from the others cannot
 * disturb the group when it comes back, and a leader that lost its majority steps down), log replication with
 * pipelined appends per follower and conflict resolution a term at a time, commit by majority of durable copies,
 * leadership transfer. Positions are offsets ({@link Entry}); a new leader appends a one-offset leader-change entry.
 *
 * <p>Durability: a member's own entries count toward commit only once {@link #advance(Ready)} reported them durable;
 * votes and append acknowledgements are released only by {@code advance}, after the driver wrote the hard state and
 * forced the log. A member restarts from its durable log and hard state.
 *
 * <p>Not thread-safe: one thread drives a group (many groups may share that thread).
 */
public final class RaftGroup {

    /** A member's role; pre-candidates ask for pre-votes without changing term. */
    public enum Role { FOLLOWER, PRE_CANDIDATE, CANDIDATE, LEADER }

    public static final int NO_LEADER = -1;

    private final RaftConfig config;
    private final RaftLog log;
    private final Random random;
    private final int self;

    private Role role = Role.FOLLOWER;
    /** The voters of the latest configuration in the log (committed or not), as Raft's single-server changes use. */
    private Set<Integer> voters;
    /** Configuration entries still above the commit offset, and the latest at or below it (key -1: the initial). */
    private final TreeMap<Long, Set<Integer>> configs = new TreeMap<>();
    /** Offset of this leader's leader-change entry: a configuration change waits until it is committed. */
    private long leaderTermStart = -1;
    private long term;
    private int votedFor;
    private int leader = NO_LEADER;
    private long commitOffset;
    private long durableEnd;
    private long nowMs;
    /** The node's bound on appends to {@link #throttledFollowers} while they catch up ({@link #throttle}). */
    private ReplicationThrottle throttle = ReplicationThrottle.UNLIMITED;
    private Set<Integer> throttledFollowers = Set.of();

    private boolean hardStateDirty;
    private List<Message> outbox = new ArrayList<>();
    private List<Message> outboxAfterPersist = new ArrayList<>();
    private boolean readyOutstanding;
    private long truncatedSinceReady = Long.MAX_VALUE;
    private long lastReadyCommit = -1;

    private long electionDeadline;
    private long heartbeatDue;
    private long quorumCheckDue;
    private long lastLeaderContactMs = Long.MIN_VALUE / 2;
    private final Set<Integer> granted = new HashSet<>();
    private final Set<Integer> refused = new HashSet<>();
    private final Map<Integer, Progress> progress = new TreeMap<>();
    private int transferTarget = NO_LEADER;
    private long transferDeadline;
    /** Leader: idle, sending nothing. Follower: told so by the leader while holding everything committed. */
    private boolean quiesced;
    /** A snapshot installed from the leader since the last Ready (for {@link Ready#installed()}). */
    private Snapshot installed;
    /** The failure detector reported this member's leader down and no new leader is known yet: retry elections fast. */
    private boolean leaderReportedDown;
    /** Members the node's failure detector reports down; a leader does not go quiet while one is. */
    private final Set<Integer> down = new HashSet<>();

    /**
     * A member starting (or restarting) from its durable state.
     *
     * @param log          the durable log (everything in it counts as on disk)
     * @param commitOffset a commit offset known from before the restart (0 is always safe), at most the log's end
     */
    public RaftGroup(RaftConfig config, RaftLog log, HardState hardState, long commitOffset, Random random,
                     long nowMs) {
        this.config = config;
        this.log = log;
        this.random = random;
        this.self = config.self();
        this.term = hardState.term();
        this.votedFor = hardState.votedFor();
        this.durableEnd = log.endOffset();
        this.commitOffset = Math.max(Math.min(commitOffset, log.endOffset()), log.startOffset());
        this.nowMs = nowMs;
        this.voters = config.voters();
        configs.put(-1L, voters);
        Snapshot start = log.snapshot();
        if (!start.voters().isEmpty()) {
            // The configuration entries below the log start are gone; the snapshot kept the voters as of there.
            configs.put(start.offset() - 1, start.voters());
            this.voters = start.voters();
        }
        for (Entry entry : log.configEntries()) {
            applyConfig(entry);
        }
        resetElectionDeadline();
    }

    /** The voters of the latest configuration this member knows (its log's, committed or not). */
    public Set<Integer> voters() {
        return voters;
    }

    /**
     * The voters of the latest committed configuration (what a restart may record as the group's members; the log's
     * uncommitted configuration entries may still be truncated). The same object until another change is committed.
     */
    public Set<Integer> committedVoters() {
        Map.Entry<Long, Set<Integer>> latest = configs.floorEntry(commitOffset - 1);
        return latest == null ? configs.firstEntry().getValue() : latest.getValue();
    }

    /** Whether the latest configuration in the log is committed (no change in flight: another may start). */
    public boolean configurationCommitted() {
        return configs.lastKey() < commitOffset;
    }

    /**
     * On the leader, whether voter {@code member} holds every committed entry (it may take leadership or count as
     * caught up for a membership change); false on other members and for members that are not voters.
     */
    public boolean caughtUp(int member) {
        if (role != Role.LEADER) {
            return false;
        }
        if (member == self) {
            return true;
        }
        Progress p = progress.get(member);
        return p != null && p.matchEnd >= commitOffset;
    }

    private int quorum() {
        return voters.size() / 2 + 1;
    }

    private boolean isVoter() {
        return voters.contains(self);
    }

    /**
     * Proposes a new set of voters, which must differ from the current one by exactly one member (Raft's
     * single-server change: any majority of the old set and any majority of the new one overlap). Refused while an
     * earlier change is not committed yet, and until this leader committed an entry of its own term (the fix for the
     * single-server change bug Ongaro described in 2015). A member added starts as a follower caught up by the leader;
     * a leader that removes itself steps down once the change is committed.
     *
     * @return the offset of the configuration entry (committed once the commit offset passes it)
     */
    public long changeVoters(Set<Integer> newVoters, long nowMs) throws NotLeaderException {
        if (role != Role.LEADER || transferTarget != NO_LEADER) {
            throw new NotLeaderException(self, role == Role.LEADER ? transferTarget : leader);
        }
        this.nowMs = nowMs;
        Set<Integer> added = new TreeSet<>(newVoters);
        added.removeAll(voters);
        Set<Integer> removed = new TreeSet<>(voters);
        removed.removeAll(newVoters);
        if (added.size() + removed.size() != 1) {
            throw new IllegalArgumentException("voters " + voters + " -> " + newVoters
                    + ": a change adds or removes exactly one member");
        }
        if (configs.lastKey() >= commitOffset || leaderTermStart < 0 || commitOffset <= leaderTermStart) {
            throw new IllegalStateException("a configuration change is in progress or this leader has not committed"
                    + " an entry of its term yet; retry later");
        }
        wake();
        Entry entry = Entry.config(log.endOffset(), term, newVoters);
        log.append(entry);
        applyConfig(entry);
        return entry.baseOffset();
    }

    /** The log holds a configuration entry: its voters count from now on (also before it is committed). */
    private void applyConfig(Entry entry) {
        Map.Entry<Long, Set<Integer>> latestCommitted = configs.floorEntry(commitOffset - 1);
        if (latestCommitted != null) {
            configs.headMap(latestCommitted.getKey(), false).clear();
        }
        configs.put(entry.baseOffset(), entry.voters());
        setVoters(entry.voters());
    }

    private void setVoters(Set<Integer> newVoters) {
        voters = newVoters;
        if (role == Role.LEADER) {
            progress.keySet().removeIf(member -> !voters.contains(member));
            for (int voter : voters) {
                if (voter != self && !progress.containsKey(voter)) {
                    Progress follower = new Progress(log.endOffset() - 1, config.maxInflightAppends());
                    follower.caughtUpMs = nowMs;
                    follower.lastProgressMs = nowMs;
                    follower.recentActive = true;
                    progress.put(voter, follower);
                }
            }
        }
    }

    public Role role() {
        return role;
    }

    public long term() {
        return term;
    }

    /** The leader of the current term as far as this member knows, or {@link #NO_LEADER}. */
    public int leader() {
        return leader;
    }

    /** Entries below this offset are committed. */
    public long commitOffset() {
        return commitOffset;
    }

    public RaftLog log() {
        return log;
    }

    /** Whether the group is quiet (see {@link Message.Heartbeat#quiesce()}). */
    public boolean quiesced() {
        return quiesced;
    }

    /** When {@link #tick} next has something to do; {@link Long#MAX_VALUE} while the group is quiet. */
    public long nextTimerMs() {
        if (quiesced) {
            return Long.MAX_VALUE;
        }
        if (role == Role.LEADER) {
            long next = Math.min(heartbeatDue, quorumCheckDue);
            return transferTarget == NO_LEADER ? next : Math.min(next, transferDeadline);
        }
        return electionDeadline;
    }

    // ---------------------------------------------------------------------------------------------- inputs

    /** Moves the member's clock; elections, heartbeats and quorum checks fall due here. */
    public void tick(long nowMs) {
        this.nowMs = nowMs;
        if (quiesced) {
            return;
        }
        if (role != Role.LEADER) {
            if (nowMs >= electionDeadline && isVoter()) {
                campaign(true, false);
            }
            return;
        }
        if (transferTarget != NO_LEADER && nowMs >= transferDeadline) {
            transferTarget = NO_LEADER;
        }
        if (nowMs >= quorumCheckDue) {
            checkQuorum();
            if (role != Role.LEADER) {
                return;
            }
        }
        if (nowMs >= heartbeatDue) {
            heartbeatDue = nowMs + config.heartbeatIntervalMs();
            boolean quiesce = idle();
            for (Map.Entry<Integer, Progress> follower : progress.entrySet()) {
                long known = Math.min(commitOffset, follower.getValue().matchEnd);
                outbox.add(new Message.Heartbeat(self, follower.getKey(), term, known, quiesce));
            }
            quiesced = quiesce;
        }
    }

    /**
     * Nothing to do: every follower not reported down holds the whole log, which is committed, answered since the
     * last quorum check, and they and the leader are a majority. A leader that stays quiet also stops checking its
     * quorum; the node's failure detector takes that over.
     */
    private boolean idle() {
        if (transferTarget != NO_LEADER || commitOffset != log.endOffset() || durableEnd != log.endOffset()) {
            return false;
        }
        int caughtUp = isVoter() ? 1 : 0;
        for (Map.Entry<Integer, Progress> follower : progress.entrySet()) {
            if (down.contains(follower.getKey())) {
                // Reported down: it is caught up by appends once the failure detector reports it up again.
                continue;
            }
            Progress p = follower.getValue();
            if (p.matchEnd != log.endOffset() || !p.recentActive) {
                return false;
            }
            caughtUp++;
        }
        return caughtUp >= quorum();
    }

    /** Out of quiet: timers run again, a leader heartbeats at once and checks its quorum an election timeout later. */
    private void wake() {
        if (!quiesced) {
            return;
        }
        quiesced = false;
        if (role == Role.LEADER) {
            // Followers must answer again (the heartbeat going out now) before the group can be quiet once more.
            heartbeatDue = nowMs;
            quorumCheckDue = nowMs + config.electionTimeoutMs();
            for (Progress follower : progress.values()) {
                follower.recentActive = false;
            }
        } else {
            resetElectionDeadline();
        }
    }

    /**
     * The node's failure detector says {@code member}'s node is gone or unreachable. A follower whose leader it was
     * stops counting on it and campaigns at its next tick (with a pre-vote, so a leader that is alive for the others
     * stays); a quiet leader wakes, so it heartbeats and checks its quorum again.
     */
    public void peerDown(int member, long nowMs) {
        this.nowMs = nowMs;
        down.add(member);
        if (role == Role.LEADER) {
            wake();
        } else if (member == leader) {
            quiesced = false;
            leader = NO_LEADER;
            leaderReportedDown = true;
            electionDeadline = nowMs + electionStagger(member);
        }
    }

    /**
     * How long after its leader's node is reported down this member campaigns: the survivors go one heartbeat interval
     * apart in the order of their ids, so they do not split the vote (a survivor asked by one with a shorter log goes at
     * once, see {@link #onVoteRequest}).
     */
    private long electionStagger(int deadLeader) {
        long rank = 0;
        for (int voter : voters) {
            if (voter == self) {
                break;
            }
            if (voter != deadLeader) {
                rank++;
            }
        }
        return rank * config.heartbeatIntervalMs();
    }

    /** The members whose node this group was told is down (for operators and tests; on the group's thread). */
    public Set<Integer> peersReportedDown() {
        return Set.copyOf(down);
    }

    /** {@code member}'s node is reachable again: a quiet leader heartbeats so a member that returns learns of it. */
    public void peerUp(int member, long nowMs) {
        this.nowMs = nowMs;
        down.remove(member);
        if (role == Role.LEADER) {
            wake();
        }
    }

    /**
     * On the leader, the members in sync as Kafka's ISR means it: this member, and each voter whose node is not
     * reported down and that holds every committed entry, or did within {@code lagMs} before {@code nowMs}
     * (Kafka's {@code replica.lag.time.max.ms}). Empty on other members.
     */
    public java.util.SortedSet<Integer> inSync(long lagMs, long nowMs) {
        java.util.TreeSet<Integer> in = new java.util.TreeSet<>();
        if (role != Role.LEADER) {
            return in;
        }
        in.add(self);
        for (int voter : voters) {
            Progress p = progress.get(voter);
            if (voter != self && p != null && !down.contains(voter)
                    && (p.matchEnd >= commitOffset || nowMs - p.caughtUpMs <= lagMs)) {
                in.add(voter);
            }
        }
        return in;
    }

    /**
     * On the leader, its view of every other voter, by member id (empty on other members): for operators' status
     * and metrics, read on the thread driving the group.
     */
    public Map<Integer, FollowerStatus> followers() {
        Map<Integer, FollowerStatus> out = new TreeMap<>();
        if (role != Role.LEADER) {
            return out;
        }
        for (Map.Entry<Integer, Progress> e : progress.entrySet()) {
            Progress p = e.getValue();
            out.put(e.getKey(), new FollowerStatus(p.state.name(), p.matchEnd, p.nextOffset, p.lastHeardMs));
        }
        return out;
    }

    /**
     * Starts an election now (with a pre-vote round) instead of at the election timeout: for the member a new group
     * prefers as its leader, so a new partition is led in a round trip, by the replica placement chose (as Kafka's
     * controller names a new partition's leader). Does nothing unless this member is a voter following no leader; a
     * pre-vote that fails (a peer's group does not exist yet) is retried after a heartbeat interval or two.
     */
    public void campaignNow(long nowMs) {
        this.nowMs = nowMs;
        if (role == Role.FOLLOWER && isVoter() && leader == NO_LEADER) {
            // No leader to wait out: a failed pre-vote is retried after a heartbeat interval or two (the peers'
            // groups may be created a moment later), as after a leader's node was reported down.
            leaderReportedDown = true;
            campaign(true, false);
        }
    }

    /** Whether {@link #propose} would take an entry now: this member leads and no leadership transfer is running. */
    public boolean acceptsProposals() {
        return role == Role.LEADER && transferTarget == NO_LEADER;
    }

    /**
     * Appends data to the log as the leader; it is committed once a majority holds it durably.
     *
     * @param count the offsets the data takes (records in a batch)
     * @param nowMs the time now
     * @return the entry's base offset
     */
    public long propose(ByteBuffer data, int count, long nowMs) throws NotLeaderException {
        if (role != Role.LEADER || transferTarget != NO_LEADER) {
            throw new NotLeaderException(self, role == Role.LEADER ? transferTarget : leader);
        }
        this.nowMs = nowMs; // a quiet leader's clock stopped when it went quiet: wake() sets deadlines from it
        wake();
        long base = log.endOffset();
        log.appendProposed(Entry.data(base, count, term, data));
        return base;
    }

    /**
     * Hands leadership to an up-to-date voter: proposals are refused while it runs, the target is caught up and told
     * to elect itself. Gives up after an election timeout.
     */
    public void transferLeadership(int target, long nowMs) throws NotLeaderException {
        if (role != Role.LEADER) {
            throw new NotLeaderException(self, leader);
        }
        this.nowMs = nowMs;
        if (target == self || !voters.contains(target)) {
            throw new IllegalArgumentException("cannot transfer leadership of member " + self + " to " + target);
        }
        wake();
        transferTarget = target;
        transferDeadline = nowMs + config.electionTimeoutMs();
        if (progress.get(target).matchEnd == log.endOffset()) {
            outbox.add(new Message.TimeoutNow(self, target, term));
        }
    }

    /**
     * This member stops on its node (its storage or state machine failed) and will answer nothing more: if it leads,
     * the voter holding the most of its log is told to campaign at once ({@link Message.TimeoutNow}), since followers
     * of a quiet group would otherwise never time out (their leader's node stays alive, so its failure detector never
     * reports it down). An election is always safe, whatever broke here; if that voter's log is too short to win, the
     * election it starts wakes the others. Returns the message to send, if any; this member must not be used after.
     */
    public List<Message> abdicate() {
        if (role != Role.LEADER) {
            return List.of();
        }
        int best = NO_LEADER;
        long bestEnd = -1;
        for (Map.Entry<Integer, Progress> follower : progress.entrySet()) {
            int member = follower.getKey();
            if (member != self && voters.contains(member) && follower.getValue().matchEnd > bestEnd) {
                best = member;
                bestEnd = follower.getValue().matchEnd;
            }
        }
        return best == NO_LEADER ? List.of() : List.of(new Message.TimeoutNow(self, best, term));
    }

    public void receive(Message message, long nowMs) {
        this.nowMs = nowMs;
        if (message.to() != self) {
            return;
        }
        if ((message instanceof Message.VoteRequest || message instanceof Message.VoteResponse)
                && !voters.contains(message.from())) {
            // Only voters elect; a removed member that still campaigns is not heard (appends from a leader this
            // member does not know as a voter yet are: its configuration may lag the leader's).
            return;
        }
        if (message instanceof Message.VoteRequest && message.from() == leader && role != Role.LEADER) {
            // The member this one follows is campaigning: it restarted or stepped down, so no lease holds for it
            // (a restart quicker than the failure detector would otherwise leave quiet followers deaf to it).
            leader = NO_LEADER;
            quiesced = false;
            resetElectionDeadline();
        }
        if (quiesced && role == Role.LEADER && !(message instanceof Message.HeartbeatResponse)) {
            // Someone wants something (a member that returned and campaigns, say): tell everyone who leads.
            wake();
        }
        if (message.term() > term) {
            if (!adoptGreaterTerm(message)) {
                return;
            }
        } else if (message.term() < term) {
            answerStale(message);
            return;
        }
        if (message instanceof Message.AppendRequest || message instanceof Message.TimeoutNow
                || message instanceof Message.InstallSnapshot) {
            wake();
        }
        if (message instanceof Message.VoteRequest request) {
            onVoteRequest(request);
        } else if (message instanceof Message.VoteResponse response) {
            onVoteResponse(response);
        } else if (message instanceof Message.AppendRequest request) {
            onAppendRequest(request);
        } else if (message instanceof Message.AppendResponse response) {
            onAppendResponse(response);
        } else if (message instanceof Message.Heartbeat heartbeat) {
            onHeartbeat(heartbeat);
        } else if (message instanceof Message.HeartbeatResponse response) {
            onHeartbeatResponse(response);
        } else if (message instanceof Message.InstallSnapshot install) {
            onInstallSnapshot(install);
        } else if (message instanceof Message.TimeoutNow && role == Role.FOLLOWER && isVoter()) {
            campaign(false, true);
        }
    }

    // ---------------------------------------------------------------------------------------------- outputs

    public boolean hasReady() {
        if (readyOutstanding) {
            return false;
        }
        if (hardStateDirty || !outbox.isEmpty() || !outboxAfterPersist.isEmpty() || commitOffset != lastReadyCommit
                || durableEnd < log.endOffset() || installed != null) {
            return true;
        }
        if (role == Role.LEADER) {
            for (Map.Entry<Integer, Progress> follower : progress.entrySet()) {
                if (wantsAppend(follower.getKey(), follower.getValue())) {
                    return true;
                }
            }
        }
        return false;
    }

    /** What to send, persist and apply now; call {@link #advance(Ready)} once it is done. */
    public Ready ready() {
        if (readyOutstanding) {
            throw new IllegalStateException("the previous Ready was not advanced");
        }
        if (role == Role.LEADER) {
            for (Map.Entry<Integer, Progress> follower : progress.entrySet()) {
                sendAppends(follower.getKey(), follower.getValue());
            }
        }
        HardState hardState = hardStateDirty ? new HardState(term, votedFor) : null;
        hardStateDirty = false;
        Ready ready = new Ready(hardState, log.endOffset(), outbox, outboxAfterPersist, commitOffset, installed);
        installed = null;
        outbox = new ArrayList<>();
        outboxAfterPersist = new ArrayList<>();
        lastReadyCommit = commitOffset;
        truncatedSinceReady = Long.MAX_VALUE;
        readyOutstanding = true;
        return ready;
    }

    /**
     * The driver wrote {@code ready}'s hard state and forced the log up to its {@code persistEnd}.
     *
     * @return the messages that waited for it (send them now)
     */
    public List<Message> advance(Ready ready) {
        readyOutstanding = false;
        durableEnd = Math.max(durableEnd, Math.min(ready.persistEnd(), truncatedSinceReady));
        if (role == Role.LEADER) {
            maybeCommit();
        }
        List<Message> release = new ArrayList<>(ready.messagesAfterPersist().size());
        for (Message message : ready.messagesAfterPersist()) {
            // A promise made in an older term is void: the log may have been truncated under it since.
            if (message.term() >= term) {
                release.add(message);
            }
        }
        return release;
    }

    // ---------------------------------------------------------------------------------------------- elections

    private void campaign(boolean preVote, boolean transfer) {
        granted.clear();
        refused.clear();
        granted.add(self);
        if (!preVote) {
            // The pre-vote round succeeded, so a majority knows the leader is gone: from here a split vote is
            // retried after a normal election timeout (quick retries could split forever when a vote round takes
            // longer than the quick timeout: network and disk latency). Cleared before the deadline is set, or
            // this very round would be given the quick timeout and restarted while its votes are on the way.
            leaderReportedDown = false;
        }
        resetElectionDeadline();
        long voteTerm;
        if (preVote) {
            role = Role.PRE_CANDIDATE;
            voteTerm = term + 1;
        } else {
            role = Role.CANDIDATE;
            term++;
            votedFor = self;
            hardStateDirty = true;
            voteTerm = term;
        }
        leader = NO_LEADER;
        if (granted.size() >= quorum()) {
            onElectionWon(preVote);
            return;
        }
        for (int voter : voters) {
            if (voter != self) {
                Message request = new Message.VoteRequest(self, voter, voteTerm, log.lastTerm(), log.endOffset(),
                        preVote, transfer);
                (preVote ? outbox : outboxAfterPersist).add(request);
            }
        }
    }

    private void onElectionWon(boolean preVote) {
        if (preVote) {
            campaign(false, false);
        } else {
            becomeLeader();
        }
    }

    private void onVoteRequest(Message.VoteRequest request) {
        boolean upToDate = request.lastTerm() > log.lastTerm()
                || (request.lastTerm() == log.lastTerm() && request.endOffset() >= log.endOffset());
        boolean canVote = request.preVote()
                ? request.term() > term || votedFor == request.from() || (votedFor == HardState.NO_VOTE && leader == NO_LEADER)
                : votedFor == request.from() || votedFor == HardState.NO_VOTE;
        boolean grant = upToDate && canVote;
        if (!upToDate && role == Role.FOLLOWER && leader == NO_LEADER) {
            // A member with a shorter log is campaigning, so the leader is gone: this one is the better candidate.
            electionDeadline = Math.min(electionDeadline, nowMs);
        }
        if (grant && request.preVote() && (role == Role.FOLLOWER || role == Role.PRE_CANDIDATE)
                && leader == NO_LEADER && goesFirst(request)) {
            // Both survivors of a dead leader campaigning at once split the vote and both wait an election timeout
            // (their stagger is shorter than a vote round on a loaded node): the one with the longer log, or with
            // equal logs the one with the lower id, goes on; this one waits for it as it would for a leader.
            role = Role.FOLLOWER;
            leaderReportedDown = false;
            resetElectionDeadline();
        }
        if (grant && !request.preVote()) {
            votedFor = request.from();
            hardStateDirty = true;
            // A candidate holds this vote: give it a whole election timeout to win and be heard from, not the quick
            // retry of a member whose leader was reported down (which would start a pre-vote against it).
            leaderReportedDown = false;
            resetElectionDeadline();
        }
        long answerTerm = grant && request.preVote() ? request.term() : term;
        Message response = new Message.VoteResponse(self, request.from(), answerTerm, grant, request.preVote());
        (grant && !request.preVote() ? outboxAfterPersist : outbox).add(response);
    }

    /**
     * Whether {@code request}'s candidate, granted a pre-vote here, has the longer log, or an equal one and the lower
     * id (the order in which the survivors of a dead leader go, {@link #electionStagger}).
     */
    private boolean goesFirst(Message.VoteRequest request) {
        boolean sameLog = request.lastTerm() == log.lastTerm() && request.endOffset() == log.endOffset();
        return !sameLog || request.from() < self;
    }

    private void onVoteResponse(Message.VoteResponse response) {
        boolean expected = response.preVote() ? role == Role.PRE_CANDIDATE : role == Role.CANDIDATE;
        if (!expected) {
            return;
        }
        (response.granted() ? granted : refused).add(response.from());
        if (granted.size() >= quorum()) {
            onElectionWon(response.preVote());
        } else if (refused.size() >= quorum()) {
            becomeFollower(term, NO_LEADER);
        }
    }

    private void becomeLeader() {
        role = Role.LEADER;
        quiesced = false;
        leaderReportedDown = false;
        leader = self;
        transferTarget = NO_LEADER;
        progress.clear();
        for (int voter : voters) {
            if (voter != self) {
                Progress follower = new Progress(log.endOffset(), config.maxInflightAppends());
                follower.caughtUpMs = nowMs;
                follower.lastProgressMs = nowMs;
                progress.put(voter, follower);
            }
        }
        leaderTermStart = log.endOffset();
        log.append(Entry.leaderChange(leaderTermStart, term));
        heartbeatDue = nowMs + config.heartbeatIntervalMs();
        quorumCheckDue = nowMs + config.electionTimeoutMs();
    }

    private void becomeFollower(long newTerm, int newLeader) {
        if (newTerm > term) {
            term = newTerm;
            votedFor = HardState.NO_VOTE;
            hardStateDirty = true;
        }
        role = Role.FOLLOWER;
        quiesced = false;
        leader = newLeader;
        progress.clear();
        transferTarget = NO_LEADER;
        if (newLeader != NO_LEADER) {
            lastLeaderContactMs = nowMs;
            leaderReportedDown = false;
        }
        resetElectionDeadline();
    }

    private void checkQuorum() {
        int active = isVoter() ? 1 : 0;
        for (Progress follower : progress.values()) {
            if (follower.recentActive) {
                active++;
            }
            follower.recentActive = false;
        }
        quorumCheckDue = nowMs + config.electionTimeoutMs();
        if (active < quorum()) {
            becomeFollower(term, NO_LEADER);
        }
    }

    /** This member heard from a live leader recently, so it does not help depose it (check quorum's lease). */
    private boolean inLease() {
        if (role == Role.LEADER || (quiesced && leader != NO_LEADER)) {
            return true;
        }
        return leader != NO_LEADER && nowMs - lastLeaderContactMs < config.electionTimeoutMs();
    }

    /** Returns whether the message is to be handled in the (possibly new) term. */
    private boolean adoptGreaterTerm(Message message) {
        if (message instanceof Message.VoteRequest request) {
            if (!request.transfer() && inLease()) {
                return false;
            }
            if (!request.preVote()) {
                becomeFollower(request.term(), NO_LEADER);
            }
            return true;
        }
        if (message instanceof Message.VoteResponse response && response.preVote()) {
            if (!response.granted()) {
                becomeFollower(response.term(), NO_LEADER);
                return false;
            }
            return response.term() == term + 1;
        }
        boolean fromLeader = message instanceof Message.AppendRequest || message instanceof Message.Heartbeat
                || message instanceof Message.TimeoutNow || message instanceof Message.InstallSnapshot;
        becomeFollower(message.term(), fromLeader ? message.from() : NO_LEADER);
        return true;
    }

    /** A message from an older term: tell a deposed leader or a late candidate the current term. */
    private void answerStale(Message message) {
        if (message instanceof Message.AppendRequest || message instanceof Message.Heartbeat
                || message instanceof Message.InstallSnapshot) {
            outbox.add(new Message.HeartbeatResponse(self, message.from(), term));
        } else if (message instanceof Message.VoteRequest request) {
            outbox.add(new Message.VoteResponse(self, request.from(), term, false, request.preVote()));
        }
    }

    private void resetElectionDeadline() {
        // Once the leader is known dead there is no lease to wait out: a failed pre-vote (a peer whose detector had
        // not reported it yet) is retried after a heartbeat interval or two, not an election timeout.
        long timeout = leaderReportedDown ? config.heartbeatIntervalMs() : config.electionTimeoutMs();
        electionDeadline = nowMs + timeout + (long) (random.nextDouble() * timeout);
    }

    // ---------------------------------------------------------------------------------------------- follower

    private void heardFromLeader(int from) {
        if (role != Role.FOLLOWER) {
            becomeFollower(term, from);
        }
        leader = from;
        leaderReportedDown = false;
        lastLeaderContactMs = nowMs;
        resetElectionDeadline();
    }

    private void onAppendRequest(Message.AppendRequest request) {
        heardFromLeader(request.from());
        long prev = request.prevLastOffset();
        long prevTerm = request.prevTerm();
        List<Entry> entries = request.entries();
        if (prev + 1 < commitOffset) {
            // The prefix below the commit offset is the same on every member: skip what of it the request repeats.
            int skip = 0;
            while (skip < entries.size() && entries.get(skip).endOffset() <= commitOffset) {
                skip++;
            }
            entries = entries.subList(skip, entries.size());
            if (entries.isEmpty() || entries.get(0).baseOffset() != commitOffset) {
                outboxAfterPersist.add(new Message.AppendResponse(self, request.from(), term, true, commitOffset,
                        prev, 0, 0));
                return;
            }
            prev = commitOffset - 1;
            prevTerm = log.termOfEntryEndingAt(prev);
        }
        if (prev + 1 > log.endOffset() || log.termOfEntryEndingAt(prev) != prevTerm) {
            long hintEnd = Math.min(log.floorBoundary(Math.min(prev + 1, log.endOffset())),
                    log.endOffsetForTerm(prevTerm));
            long hintTerm = log.termOfEntryEndingAt(hintEnd - 1);
            outbox.add(new Message.AppendResponse(self, request.from(), term, false, 0, request.prevLastOffset(),
                    hintTerm, hintEnd));
            return;
        }
        for (Entry entry : entries) {
            if (entry.baseOffset() < log.endOffset()) {
                if (log.termOfEntryEndingAt(entry.lastOffset()) == entry.term()) {
                    continue;
                }
                if (entry.baseOffset() < commitOffset) {
                    throw new IllegalStateException("member " + self + " would truncate committed entries at "
                            + entry.baseOffset() + " (commit " + commitOffset + ") for " + entry);
                }
                truncate(entry.baseOffset());
            }
            log.append(entry);
            if (entry.kind() == Entry.Kind.CONFIG) {
                applyConfig(entry);
            }
        }
        long matchEnd = entries.isEmpty() ? prev + 1 : entries.get(entries.size() - 1).endOffset();
        commitOffset = Math.max(commitOffset, Math.min(request.commitOffset(), matchEnd));
        outboxAfterPersist.add(new Message.AppendResponse(self, request.from(), term, true, matchEnd,
                request.prevLastOffset(), 0, 0));
    }

    private void truncate(long end) {
        if (configs.lastKey() >= end) {
            configs.tailMap(end, true).clear();
            setVoters(configs.lastEntry().getValue());
        }
        log.truncateTo(end);
        durableEnd = Math.min(durableEnd, end);
        truncatedSinceReady = Math.min(truncatedSinceReady, end);
    }

    /**
     * The leader's log starts past what this member holds. If this log already holds the entry the snapshot ends
     * with, it only learns that everything up to there is committed; otherwise it starts anew from the snapshot. The
     * answer promises the snapshot's offset durably, so it waits for the force.
     */
    private void onInstallSnapshot(Message.InstallSnapshot install) {
        heardFromLeader(install.from());
        Snapshot snapshot = install.snapshot();
        long offset = snapshot.offset();
        if (offset > commitOffset) {
            boolean holdsIt = offset <= log.endOffset() && offset >= log.startOffset()
                    && log.termOfEntryEndingAt(offset - 1) == snapshot.term();
            if (!holdsIt) {
                log.reset(snapshot);
                configs.clear();
                configs.put(-1L, config.voters());
                if (!snapshot.voters().isEmpty()) {
                    configs.put(offset - 1, snapshot.voters());
                }
                setVoters(configs.lastEntry().getValue());
                durableEnd = Math.min(durableEnd, offset);
                truncatedSinceReady = Math.min(truncatedSinceReady, offset);
                installed = snapshot;
            }
            commitOffset = offset;
        }
        long matchEnd = Math.max(commitOffset, offset);
        outboxAfterPersist.add(new Message.AppendResponse(self, install.from(), term, true, Math.min(matchEnd,
                log.endOffset()), offset - 1, 0, 0));
    }

    /**
     * Cuts the log below {@code offset} (retention): {@code data} is the owner's state as of {@code offset}, which
     * must be an entry boundary at or below the commit offset. A follower that later needs entries from below it gets
     * the snapshot instead ({@link Message.InstallSnapshot}).
     */
    public void compact(long offset, java.nio.ByteBuffer data) {
        if (offset <= log.startOffset()) {
            return;
        }
        if (offset > commitOffset) {
            throw new IllegalArgumentException("compaction to " + offset + " beyond the commit offset " + commitOffset);
        }
        Map.Entry<Long, Set<Integer>> votersThen = configs.floorEntry(offset - 1);
        // When the floor was pruned a later configuration entry stays in the log, and it wins on restart.
        Set<Integer> snapshotVoters = votersThen == null ? voters : votersThen.getValue();
        log.compact(new Snapshot(offset, log.termOfEntryEndingAt(offset - 1), snapshotVoters, data));
    }

    private void onHeartbeat(Message.Heartbeat heartbeat) {
        heardFromLeader(heartbeat.from());
        commitOffset = Math.max(commitOffset, Math.min(heartbeat.commitOffset(), log.endOffset()));
        if (heartbeat.quiesce() && commitOffset == log.endOffset()) {
            // Only appends wake a quiet follower, not heartbeats: an older heartbeat overtaken by the quiet one must
            // not start its election timer again (the failure detector watches the leader meanwhile).
            quiesced = true;
        }
        outbox.add(new Message.HeartbeatResponse(self, heartbeat.from(), term));
    }

    // ---------------------------------------------------------------------------------------------- leader

    private void onAppendResponse(Message.AppendResponse response) {
        Progress follower = role == Role.LEADER ? progress.get(response.from()) : null;
        if (follower == null) {
            return;
        }
        follower.recentActive = true;
        follower.lastHeardMs = nowMs;
        if (response.success()) {
            if (follower.acknowledged(response.matchEnd(), nowMs)) {
                maybeCommit();
            }
            if (follower.matchEnd >= commitOffset) {
                follower.caughtUpMs = nowMs;
            }
            if (response.from() == transferTarget && follower.matchEnd == log.endOffset()) {
                outbox.add(new Message.TimeoutNow(self, transferTarget, term));
            }
        } else if (response.rejectedPrev() + 1 > follower.matchEnd) {
            long hint = Math.min(response.hintEnd(), log.endOffsetForTerm(response.hintTerm()));
            if (hint > response.rejectedPrev()) {
                hint = response.rejectedPrev();
            }
            // Below this log's start no boundary is known: the follower gets the snapshot (sendAppends).
            follower.probeFrom(hint < log.startOffset() ? hint : log.floorBoundary(hint), nowMs);
        }
        sendAppends(response.from(), follower);
    }

    private void onHeartbeatResponse(Message.HeartbeatResponse response) {
        Progress follower = role == Role.LEADER ? progress.get(response.from()) : null;
        if (follower == null) {
            return;
        }
        follower.recentActive = true;
        follower.lastHeardMs = nowMs;
        follower.heartbeatAnswered(nowMs, 2 * config.heartbeatIntervalMs(), config.electionTimeoutMs());
        sendAppends(response.from(), follower);
    }

    private boolean wantsAppend(int id, Progress follower) {
        if (!follower.canSend()) {
            return false;
        }
        if (throttled(id, follower) && !throttle.mayAppend(nowMs)) {
            return false; // sent again once the bucket refilled: a heartbeat's answer asks (onHeartbeatResponse)
        }
        return switch (follower.state) {
            case PROBE -> follower.matchEnd < log.endOffset();
            case REPLICATE -> follower.nextOffset < log.endOffset();
            case SNAPSHOT -> false;
        };
    }

    /**
     * Whether appends to a follower are held to the node's {@link ReplicationThrottle}: it is one of the followers
     * named throttled ({@link #throttle}) and does not hold every committed entry yet (a caught-up replica is not
     * held back, as Kafka throttles only replicas out of the ISR).
     */
    private boolean throttled(int id, Progress follower) {
        return !throttledFollowers.isEmpty() && throttledFollowers.contains(id) && follower.matchEnd < commitOffset;
    }

    /**
     * Holds appends to {@code followers} (replicas a reassignment adds) to {@code throttle} while they catch up; an
     * empty set lifts it. Kept across terms: it matters only while this member leads.
     */
    public void throttle(ReplicationThrottle throttle, Set<Integer> followers) {
        this.throttle = throttle;
        this.throttledFollowers = Set.copyOf(followers);
    }

    private void sendAppends(int to, Progress follower) {
        while (wantsAppend(to, follower)) {
            long next = follower.nextOffset;
            long prevTerm = log.termOfEntryEndingAt(next - 1);
            if (next < log.startOffset()) {
                // The entries it needs next are gone here: it starts from this log's snapshot.
                outbox.add(new Message.InstallSnapshot(self, to, term, log.snapshot()));
                follower.snapshotSent(nowMs);
                return;
            }
            if (prevTerm < 0) {
                return;
            }
            List<Entry> entries = next < log.endOffset() ? log.read(next, config.maxAppendBytes()) : List.of();
            if (throttled(to, follower)) {
                long bytes = 0;
                for (Entry e : entries) {
                    bytes += e.data().remaining();
                }
                throttle.charge(bytes, nowMs);
            }
            Message.AppendRequest request = new Message.AppendRequest(self, to, term, next - 1, prevTerm, entries,
                    commitOffset);
            follower.sent(request.endOffset());
            outbox.add(request);
        }
    }

    private void maybeCommit() {
        long[] matches = new long[voters.size()];
        int i = 0;
        for (int voter : voters) {
            matches[i++] = voter == self ? durableEnd : progress.get(voter).matchEnd;
        }
        Arrays.sort(matches);
        long quorumEnd = matches[matches.length - quorum()];
        // Only an entry of the leader's own term is committed by counting copies (Raft §5.4.2).
        if (quorumEnd > commitOffset && log.termOfEntryEndingAt(quorumEnd - 1) == term) {
            commitOffset = quorumEnd;
        }
        if (!isVoter() && configs.lastKey() < commitOffset) {
            // This leader removed itself and the change is committed: it hands over (the others elect).
            becomeFollower(term, NO_LEADER);
        }
    }

    @Override
    public String toString() {
        return "RaftGroup[" + self + " " + role + " term=" + term + " leader=" + leader + " end=" + log.endOffset()
                + " durable=" + durableEnd + " commit=" + commitOffset + "]";
    }
}
