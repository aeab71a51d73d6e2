package io.fluxmq.raftcore;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * Members of one group on a simulated clock, network and disk, driven by one seeded {@link Random}: messages are
 * delayed, reordered, duplicated and dropped, links cut, members crash (losing what they had not forced) and restart.
 * The same seed replays the same run. Safety invariants are checked after every event; a violation throws an
 * {@link AssertionError} naming the seed and the last events.
 */
final class SimulatedCluster {

    static final long ELECTION_TIMEOUT_MS = 150;
    static final long HEARTBEAT_MS = 30;
    private static final long TICK_MS = 5;

    final long seed;
    final Random random;
    long nowMs;
    private long sequence;
    private final PriorityQueue<Event> events = new PriorityQueue<>();
    private final Map<Integer, Member> members = new TreeMap<>();
    private final Set<Long> cutLinks = new HashSet<>();
    private final ArrayDeque<String> trace = new ArrayDeque<>();
    double dropRate;
    double duplicateRate;
    int maxDelayMs = 10;
    int maxFsyncMs = 3;
    int maxAppendBytes = RaftConfig.MAX_APPEND_BYTES_DEFAULT;
    /** The node-level failure detector reports a crash or a cut link (and its end) this long after it happens. */
    int maxDetectionMs = 60;

    // What the invariants remember.
    private final Map<Long, Integer> leaderOfTerm = new HashMap<>();
    final TreeMap<Long, Entry> committed = new TreeMap<>();
    /** Compactions made, and snapshots installed from a leader. */
    long compactions;
    long installs;
    private int proposals;
    long delivered;
    long sent;
    int crashes;
    int voterChanges;

    private record Event(long atMs, long sequence, Runnable action) implements Comparable<Event> {
        @Override
        public int compareTo(Event other) {
            return atMs != other.atMs ? Long.compare(atMs, other.atMs) : Long.compare(sequence, other.sequence);
        }
    }

    /** One member: its live state and what its disk holds. */
    final class Member {
        final int id;
        RaftGroup group;
        MemoryRaftLog log = new MemoryRaftLog();
        MemoryRaftLog disk = new MemoryRaftLog();
        HardState diskHardState = HardState.INITIAL;
        int incarnation;
        boolean persisting;
        long commitSeen;
        RaftGroup.Role roleSeen = RaftGroup.Role.FOLLOWER;

        Member(int id) {
            this.id = id;
        }

        boolean up() {
            return group != null;
        }
    }

    /** Members stopped for good (removed from the group); a restart scheduled earlier does not bring them back. */
    private final Set<Integer> removed = new HashSet<>();
    /** The voters every member starts with; configuration entries in the log take over. */
    private final Set<Integer> initialVoters;

    SimulatedCluster(long seed, int size) {
        this(seed, size, size);
    }

    /** {@code members} members of which the first {@code voters} vote at first; the others wait to be added. */
    SimulatedCluster(long seed, int members, int voters) {
        this.seed = seed;
        this.random = new Random(seed);
        this.initialVoters = IntStream.rangeClosed(1, voters).boxed().collect(Collectors.toSet());
        for (int id = 1; id <= members; id++) {
            this.members.put(id, new Member(id));
        }
        for (int id = 1; id <= members; id++) {
            start(this.members.get(id), initialVoters);
        }
    }

    /** Terms in which some member led. */
    int leaderTerms() {
        return leaderOfTerm.size();
    }

    Member member(int id) {
        return members.get(id);
    }

    List<Member> members() {
        return List.copyOf(members.values());
    }

    private void start(Member member, Set<Integer> voters) {
        RaftConfig config = new RaftConfig(member.id, voters, ELECTION_TIMEOUT_MS, HEARTBEAT_MS,
                RaftConfig.MAX_INFLIGHT_APPENDS_DEFAULT, maxAppendBytes);
        member.log = member.disk.copy();
        member.group = new RaftGroup(config, member.log, member.diskHardState, 0, new Random(random.nextLong()),
                nowMs);
        member.commitSeen = member.group.commitOffset();
        member.roleSeen = RaftGroup.Role.FOLLOWER;
        member.persisting = false;
        int incarnation = ++member.incarnation;
        schedule(TICK_MS, () -> tickLoop(member, incarnation));
        note("start " + member.id + " " + member.group);
    }

    private void tickLoop(Member member, int incarnation) {
        if (member.incarnation != incarnation || !member.up()) {
            return;
        }
        member.group.tick(nowMs);
        drive(member);
        schedule(TICK_MS, () -> tickLoop(member, incarnation));
    }

    void schedule(long delayMs, Runnable action) {
        events.add(new Event(nowMs + delayMs, sequence++, action));
    }

    /** Runs events until {@code untilMs} on the simulated clock. */
    void runUntil(long untilMs) {
        while (!events.isEmpty() && events.peek().atMs() <= untilMs) {
            Event event = events.poll();
            nowMs = event.atMs();
            event.action().run();
            checkInvariants();
        }
        nowMs = Math.max(nowMs, untilMs);
    }

    // ---------------------------------------------------------------------------------------------- driver

    private void drive(Member member) {
        if (!member.up() || member.persisting || !member.group.hasReady()) {
            return;
        }
        Ready ready = member.group.ready();
        if (ready.installed() != null) {
            installs++;
            note("install " + member.id + " " + ready.installed());
        }
        for (Message message : ready.messages()) {
            send(message);
        }
        member.persisting = true;
        int incarnation = member.incarnation;
        schedule(random.nextInt(maxFsyncMs + 1), () -> persisted(member, incarnation, ready));
    }

    private void persisted(Member member, int incarnation, Ready ready) {
        if (member.incarnation != incarnation || !member.up()) {
            return;
        }
        // A force writes what the log holds now, which may be more than the Ready asked for.
        member.disk = member.log.copy();
        if (ready.hardState() != null) {
            member.diskHardState = ready.hardState();
        }
        member.persisting = false;
        for (Message message : member.group.advance(ready)) {
            send(message);
        }
        drive(member);
    }

    private void send(Message message) {
        sent++;
        if (cutLinks.contains(link(message.from(), message.to())) || random.nextDouble() < dropRate) {
            return;
        }
        int copies = random.nextDouble() < duplicateRate ? 2 : 1;
        for (int i = 0; i < copies; i++) {
            schedule(1 + random.nextInt(maxDelayMs), () -> deliver(message));
        }
    }

    private void deliver(Message message) {
        Member member = members.get(message.to());
        if (!member.up() || cutLinks.contains(link(message.from(), message.to()))) {
            return;
        }
        delivered++;
        member.group.receive(message, nowMs);
        drive(member);
    }

    private static long link(int from, int to) {
        return ((long) from << 32) | to;
    }

    // ---------------------------------------------------------------------------------------------- faults

    void crash(int id) {
        Member member = members.get(id);
        if (!member.up()) {
            return;
        }
        note("crash " + member.group);
        crashes++;
        member.group = null;
        member.incarnation++;
        member.log = member.disk.copy();
        detectLater();
    }

    void restart(int id) {
        Member member = members.get(id);
        if (!member.up() && !removed.contains(id)) {
            start(member, initialVoters);
            detectLater();
        }
    }

    void cut(int a, int b) {
        cutLinks.add(link(a, b));
        cutLinks.add(link(b, a));
        detectLater();
    }

    void isolate(int id) {
        for (int other : members.keySet()) {
            if (other != id) {
                cut(id, other);
            }
        }
        note("isolate " + id);
    }

    void heal() {
        cutLinks.clear();
        note("heal");
        detectLater();
    }

    /**
     * The failure detectors of every live member look at their peers a little later and report what they see then:
     * a peer down (crashed, or the link cut) or up.
     */
    private void detectLater() {
        schedule(1 + random.nextInt(maxDetectionMs), () -> {
            for (Member member : members.values()) {
                for (Member peer : members.values()) {
                    if (member.up() && peer != member) {
                        boolean reachable = peer.up() && !cutLinks.contains(link(member.id, peer.id));
                        if (reachable) {
                            member.group.peerUp(peer.id, nowMs);
                        } else {
                            member.group.peerDown(peer.id, nowMs);
                        }
                        drive(member);
                    }
                }
            }
        });
    }

    /** Proposes to whichever member believes it leads; returns whether one took it. */
    boolean propose() {
        for (Member member : members.values()) {
            if (member.up() && member.group.role() == RaftGroup.Role.LEADER) {
                return proposeTo(member) >= 0;
            }
        }
        return false;
    }

    /** Proposes to {@code member}; returns the end offset of the new entry, or -1 if it does not lead. */
    long proposeTo(Member member) {
        int count = 1 + random.nextInt(5);
        byte[] data = ("p" + proposals++ + "@" + seed).getBytes(StandardCharsets.UTF_8);
        try {
            long base = member.group.propose(ByteBuffer.wrap(data), count, nowMs);
            drive(member);
            return base + count;
        } catch (NotLeaderException e) {
            return -1;
        }
    }

    /**
     * Asks the leader to add a member that does not vote or remove one that does (keeping at least three voters);
     * returns whether it took the change.
     */
    boolean changeVoters() {
        Member leader = leader();
        if (leader == null) {
            return false;
        }
        Set<Integer> voters = new java.util.TreeSet<>(leader.group.voters());
        List<Integer> candidates = new ArrayList<>(members.keySet());
        int id = candidates.get(random.nextInt(candidates.size()));
        if (voters.contains(id)) {
            if (voters.size() <= 3) {
                return false;
            }
            voters.remove(id);
        } else {
            voters.add(id);
        }
        try {
            leader.group.changeVoters(voters, nowMs);
        } catch (NotLeaderException | IllegalStateException e) {
            return false;
        }
        note("change voters to " + voters + " by " + leader.id);
        voterChanges++;
        drive(leader);
        return true;
    }

    /** The owner's state as of {@code offset}, as the simulation's compactions record it (checked where installed). */
    static ByteBuffer stateAt(long offset) {
        return ByteBuffer.wrap(("state@" + offset).getBytes(StandardCharsets.UTF_8));
    }

    /** Retention on one member: its log is cut at its commit offset; followers behind it later get the snapshot. */
    void compact(int id) {
        Member member = members.get(id);
        if (!member.up()) {
            return;
        }
        long offset = member.group.commitOffset();
        member.group.compact(offset, stateAt(offset));
        compactions++;
        note("compact " + member.id + " to " + offset);
    }

    /** As the node's reconciler would: a member that is no voter of the leader's committed configuration stops. */
    void stopNonVoters(Set<Integer> voters) {
        for (Member member : members.values()) {
            if (!voters.contains(member.id)) {
                crash(member.id);
                removed.add(member.id);
            }
        }
    }

    /** The one member that leads in the greatest term among live members, if any. */
    Member leader() {
        Member leader = null;
        for (Member member : members.values()) {
            if (member.up() && member.group.role() == RaftGroup.Role.LEADER
                    && (leader == null || member.group.term() > leader.group.term())) {
                leader = member;
            }
        }
        return leader;
    }

    // ---------------------------------------------------------------------------------------------- invariants

    private void checkInvariants() {
        for (Member member : members.values()) {
            if (!member.up()) {
                continue;
            }
            RaftGroup group = member.group;
            if (group.role() == RaftGroup.Role.LEADER) {
                Integer other = leaderOfTerm.putIfAbsent(group.term(), member.id);
                if (other != null && other != member.id) {
                    fail("two leaders in term " + group.term() + ": " + other + " and " + member.id);
                }
                if (member.roleSeen != RaftGroup.Role.LEADER) {
                    checkLeaderCompleteness(member);
                }
            }
            member.roleSeen = group.role();
            Snapshot start = group.log().snapshot();
            if (start.offset() > 0) {
                Entry before = committed.isEmpty() ? null : committed.floorEntry(start.offset() - 1).getValue();
                if (before != null && before.endOffset() == start.offset() && before.term() != start.term()) {
                    fail("member " + member.id + " starts from " + start + " but " + before + " was committed");
                }
                if (!start.data().equals(stateAt(start.offset()))) {
                    fail("member " + member.id + " starts from " + start + " with the wrong state");
                }
                if (group.commitOffset() < start.offset()) {
                    fail("member " + member.id + " commit " + group.commitOffset() + " below its log start " + start);
                }
            }
            long commit = group.commitOffset();
            if (commit > group.log().endOffset()) {
                fail("member " + member.id + " commit " + commit + " beyond its log end " + group.log().endOffset());
            }
            if (commit < member.commitSeen) {
                fail("member " + member.id + " commit went back from " + member.commitSeen + " to " + commit);
            }
            if (commit > member.commitSeen) {
                recordCommitted(member, member.commitSeen, commit);
                member.commitSeen = commit;
            }
        }
    }

    private void recordCommitted(Member member, long from, long to) {
        long offset = member.group.log().floorBoundary(from);
        for (Entry entry : member.group.log().read(offset, Integer.MAX_VALUE)) {
            if (entry.baseOffset() >= to) {
                break;
            }
            if (entry.endOffset() > to) {
                fail("member " + member.id + " commit " + to + " inside " + entry);
            }
            Entry known = committed.putIfAbsent(entry.baseOffset(), entry);
            if (known != null && !(known.samePlace(entry) && known.data().equals(entry.data()))) {
                fail("member " + member.id + " committed " + entry + " where " + known + " was committed");
            }
        }
    }

    private void checkLeaderCompleteness(Member leader) {
        for (Entry entry : committed.tailMap(leader.group.log().startOffset() - 1, true).values()) {
            long term = leader.group.log().termOfEntryEndingAt(entry.lastOffset());
            if (term != entry.term()) {
                fail("new leader " + leader.group + " lacks committed " + entry);
            }
        }
    }

    /** Every pair of logs that holds an entry ending at the same offset in the same term agrees up to it. */
    void checkLogMatching() {
        List<Member> up = members.values().stream().filter(Member::up).toList();
        for (int i = 0; i < up.size(); i++) {
            for (int j = i + 1; j < up.size(); j++) {
                RaftLog a = up.get(i).group.log();
                RaftLog b = up.get(j).group.log();
                TreeMap<Long, Entry> byBase = new TreeMap<>();
                for (Entry entry : a.read(a.startOffset(), Integer.MAX_VALUE)) {
                    byBase.put(entry.baseOffset(), entry);
                }
                List<Entry> common = new ArrayList<>();
                for (Entry entry : b.read(b.startOffset(), Integer.MAX_VALUE)) {
                    Entry other = byBase.get(entry.baseOffset());
                    if (other != null) {
                        common.add(entry);
                    }
                }
                // The last entry in the same place in both: everything both hold below it must be the same.
                int last = -1;
                for (int k = common.size() - 1; k >= 0; k--) {
                    if (common.get(k).samePlace(byBase.get(common.get(k).baseOffset()))) {
                        last = k;
                        break;
                    }
                }
                for (int k = 0; k <= last; k++) {
                    Entry x = common.get(k);
                    Entry y = byBase.get(x.baseOffset());
                    if (!x.samePlace(y) || !x.data().equals(y.data())) {
                        fail("logs of " + up.get(i).id + " and " + up.get(j).id + " differ at " + y + " / " + x
                                + " below a common entry");
                    }
                }
            }
        }
    }

    void note(String event) {
        trace.addLast(nowMs + " ms: " + event);
        if (trace.size() > 40) {
            trace.removeFirst();
        }
    }

    void fail(String what) {
        List<String> state = new ArrayList<>();
        for (Member member : members.values()) {
            state.add(member.up() ? member.group.toString() : "member " + member.id + " down");
        }
        throw new AssertionError("seed " + seed + " at " + nowMs + " ms: " + what + "\nmembers: " + state
                + "\nlast events:\n  " + String.join("\n  ", trace));
    }
}
