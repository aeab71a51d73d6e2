package io.fluxmq.kafka.api;

import io.fluxmq.kafka.group.GroupCoordinator;
import io.fluxmq.kafka.group.GroupOperations;
import io.fluxmq.kafka.group.OffsetOperations;
import io.fluxmq.kafka.txn.TxnCoordinator;
import java.util.List;

/** The handlers of every consumer-group API, all served by one {@link GroupCoordinator}. */
public final class GroupHandlers {
    private GroupHandlers() {
    }

    public static List<ApiHandler<?>> of(GroupCoordinator coordinator) {
        return of(coordinator, null);
    }

    /** With FindCoordinator answering transactional ids from {@code transactions} (null: none). */
    public static List<ApiHandler<?>> of(GroupCoordinator coordinator, TxnCoordinator transactions) {
        GroupOperations groups = new GroupOperations(coordinator);
        OffsetOperations offsets = new OffsetOperations(coordinator);
        return List.of(
                new FindCoordinatorHandler(coordinator, transactions),
                new JoinGroupHandler(groups),
                new SyncGroupHandler(groups),
                new HeartbeatHandler(groups),
                new LeaveGroupHandler(groups),
                new OffsetCommitHandler(offsets),
                new OffsetFetchHandler(offsets),
                new ListGroupsHandler(coordinator),
                new DescribeGroupsHandler(groups),
                new DeleteGroupsHandler(groups),
                new OffsetDeleteHandler(groups),
                new ConsumerGroupHeartbeatHandler(groups),
                new ConsumerGroupDescribeHandler(groups));
    }
}
