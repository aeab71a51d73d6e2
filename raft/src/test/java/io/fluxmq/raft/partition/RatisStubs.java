package io.fluxmq.raft.partition;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Proxy;
import java.util.NavigableMap;
import java.util.TreeMap;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.DivisionInfo;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.raftlog.RaftLog;

/**
 * The few Ratis server interfaces a {@link PartitionStateMachine} calls, answered by proxies: any other method throws,
 * so a test fails loudly if the state machine starts to depend on more of the server.
 */
final class RatisStubs {
    private RatisStubs() {
    }

    /** A server {@code self} whose divisions report {@code leader} as their leader. */
    static RaftServer server(RaftPeerId self, RaftPeerId leader) {
        DivisionInfo info = stub(DivisionInfo.class, (proxy, method, args) -> switch (method.getName()) {
            case "getLeaderId" -> leader;
            default -> unsupported(method.getName());
        });
        RaftServer.Division division = stub(RaftServer.Division.class, (proxy, method, args) ->
                method.getName().equals("getInfo") ? info : unsupported(method.getName()));
        return stub(RaftServer.class, (proxy, method, args) -> switch (method.getName()) {
            case "getId" -> self;
            case "getDivision" -> division;
            default -> unsupported(method.getName());
        });
    }

    /** A Raft log holding {@code entries} (consecutive indices). */
    static RaftLog raftLog(LogEntryProto... entries) {
        NavigableMap<Long, LogEntryProto> byIndex = new TreeMap<>();
        for (LogEntryProto entry : entries) {
            byIndex.put(entry.getIndex(), entry);
        }
        return stub(RaftLog.class, (proxy, method, args) -> switch (method.getName()) {
            case "get" -> byIndex.get((Long) args[0]);
            case "getStartIndex" -> byIndex.isEmpty() ? 0L : byIndex.firstKey();
            case "getLastEntryTermIndex" -> byIndex.isEmpty() ? null : TermIndex.valueOf(byIndex.lastEntry().getValue());
            default -> unsupported(method.getName());
        });
    }

    private static Object unsupported(String method) {
        throw new UnsupportedOperationException(method + " is not stubbed");
    }

    private static <T> T stub(Class<T> type, InvocationHandler answers) {
        InvocationHandler handler = (proxy, method, args) -> switch (method.getName()) {
            case "toString" -> type.getSimpleName() + " stub";
            case "hashCode" -> System.identityHashCode(proxy);
            case "equals" -> proxy == args[0];
            default -> answers.invoke(proxy, method, args);
        };
        return type.cast(Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, handler));
    }
}
