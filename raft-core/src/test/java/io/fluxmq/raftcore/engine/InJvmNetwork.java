package io.fluxmq.raftcore.engine;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/** Engines of several nodes in one JVM: batches go straight to the peer's engine; a node can be cut off. */
final class InJvmNetwork {
    private final Map<Integer, RaftEngine> engines = new ConcurrentHashMap<>();
    private final Set<Integer> cut = ConcurrentHashMap.newKeySet();
    final AtomicLong groupMessages = new AtomicLong();
    final AtomicLong batches = new AtomicLong();

    Transport transportOf(int fromNode) {
        return (toNode, batch) -> {
            RaftEngine peer = engines.get(toNode);
            if (peer == null || cut.contains(fromNode) || cut.contains(toNode)) {
                return;
            }
            batches.incrementAndGet();
            groupMessages.addAndGet(batch.size());
            peer.receive(fromNode, List.copyOf(batch));
        };
    }

    void register(RaftEngine engine) {
        engines.put(engine.nodeId(), engine);
    }

    /** The node neither sends nor receives from now on (as after kill -9, or a cable pulled). */
    void cutOff(int node) {
        cut.add(node);
    }
}
