package io.fluxmq.raft.engine;

import io.fluxmq.raftcore.RaftGroup;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Leadership transfers a replica started, each waiting to learn whether its target came to lead: settled by the
 * leader the group reports next ({@link #leaderKnown}) or by a timeout. Thread-safe.
 */
final class TransferWaits {

    private record Wait(int target, CompletableFuture<Boolean> moved) {}

    private final int self;
    private final List<Wait> waits = new ArrayList<>();

    TransferWaits(int self) {
        this.self = self;
    }

    /** A future that completes true once {@code target} leads, false if another does or {@code timeoutMs} passes. */
    CompletableFuture<Boolean> await(int target, long timeoutMs) {
        CompletableFuture<Boolean> moved = new CompletableFuture<>();
        synchronized (waits) {
            waits.add(new Wait(target, moved));
        }
        moved.completeOnTimeout(false, timeoutMs, TimeUnit.MILLISECONDS).whenComplete((v, e) -> {
            synchronized (waits) {
                waits.removeIf(w -> w.moved() == moved);
            }
        });
        return moved;
    }

    /** The group names {@code leader}: transfers to it succeeded; while it is this node they are still under way. */
    void leaderKnown(int leader) {
        if (leader == RaftGroup.NO_LEADER || leader == self) {
            return;
        }
        List<Wait> done = new ArrayList<>();
        synchronized (waits) {
            for (Iterator<Wait> it = waits.iterator(); it.hasNext(); ) {
                done.add(it.next());
                it.remove();
            }
        }
        for (Wait w : done) {
            w.moved().complete(w.target() == leader);
        }
    }
}
