package io.fluxmq.raftcore;

import java.util.ArrayDeque;

/**
 * A leader's view of one follower: how far the follower's log is known to match ({@code matchEnd}), where the next
 * append starts ({@code nextOffset}) and the appends in flight. While probing, the leader sends one append and waits
 * for its answer; once an append matched, it replicates: it sends up to {@code maxInflight} appends without waiting,
 * moving {@code nextOffset} ahead optimistically.
 */
final class Progress {

    /** Probing for a match, replicating in a pipeline, or waiting for a snapshot sent to be installed. */
    enum State { PROBE, REPLICATE, SNAPSHOT }

    private final int maxInflight;
    private final ArrayDeque<Long> inflightEnds = new ArrayDeque<>();
    State state = State.PROBE;
    long matchEnd;
    long nextOffset;
    /** A probe was sent and not answered yet. */
    boolean probeSent;
    /** Heard from since the leader last checked its quorum. */
    boolean recentActive;
    /** When the follower last held every committed entry (or this member became leader): for the in-sync set. */
    long caughtUpMs;
    /** When the follower last acknowledged progress (or probing started). */
    long lastProgressMs;
    /** When the follower last answered anything (an append or a heartbeat); for operators. */
    long lastHeardMs;

    Progress(long nextOffset, int maxInflight) {
        this.nextOffset = nextOffset;
        this.maxInflight = maxInflight;
    }

    boolean canSend() {
        return switch (state) {
            case PROBE -> !probeSent;
            case REPLICATE -> inflightEnds.size() < maxInflight;
            case SNAPSHOT -> false;
        };
    }

    void sent(long endOffset) {
        switch (state) {
            case PROBE -> probeSent = true;
            case REPLICATE -> {
                inflightEnds.addLast(endOffset);
                nextOffset = endOffset;
            }
            case SNAPSHOT -> throw new IllegalStateException("no appends while a snapshot is installed");
        }
    }

    /** The follower was sent the leader's snapshot: nothing more until it answers (or is probed again). */
    void snapshotSent(long nowMs) {
        state = State.SNAPSHOT;
        probeSent = false;
        inflightEnds.clear();
        lastProgressMs = nowMs;
    }

    /** The follower holds the leader's log up to {@code end}; returns whether that was news. */
    boolean acknowledged(long end, long nowMs) {
        boolean news = end > matchEnd;
        if (news) {
            matchEnd = end;
            lastProgressMs = nowMs;
        }
        nextOffset = Math.max(nextOffset, end);
        while (!inflightEnds.isEmpty() && inflightEnds.peekFirst() <= end) {
            inflightEnds.removeFirst();
        }
        if (state != State.REPLICATE) {
            state = State.REPLICATE;
            probeSent = false;
            inflightEnds.clear();
        }
        return news;
    }

    /** Back to probing from {@code next} (an append was rejected, or the follower stopped answering). */
    void probeFrom(long next, long nowMs) {
        lastProgressMs = nowMs;
        state = State.PROBE;
        probeSent = false;
        inflightEnds.clear();
        nextOffset = Math.max(next, matchEnd);
    }

    /**
     * A heartbeat was answered: a probe that got lost may be sent again, and appends that have gone unanswered for
     * {@code stallMs} (a snapshot for {@code snapshotStallMs}) while the follower answers heartbeats were lost, so
     * probing starts again from the match.
     */
    void heartbeatAnswered(long nowMs, long stallMs, long snapshotStallMs) {
        if (state == State.PROBE) {
            probeSent = false;
        } else if (state == State.SNAPSHOT) {
            if (nowMs - lastProgressMs >= snapshotStallMs) {
                probeFrom(matchEnd, nowMs); // the snapshot or its answer was lost: probe, which sends it again
            }
        } else if (!inflightEnds.isEmpty() && nowMs - lastProgressMs >= stallMs) {
            probeFrom(matchEnd, nowMs);
        }
    }

    @Override
    public String toString() {
        return state + " match=" + matchEnd + " next=" + nextOffset + " inflight=" + inflightEnds.size();
    }
}
