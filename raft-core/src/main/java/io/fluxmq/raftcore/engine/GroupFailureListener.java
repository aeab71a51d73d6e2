package io.fluxmq.raftcore.engine;

/**
 * Told when a group stops on this node because something failed while its loop ran it: its log or state machine
 * threw, its commit listener threw, or the storage could not make the loop pass durable. The group is removed from
 * its loop (other groups of the loop go on), its waiting proposals fail with {@code cause}, and it promised nothing
 * it had not made durable. The owner decides what to do: reopen it from disk, or take the partition offline as Kafka
 * does when a log directory fails. Called on the group's loop thread; must not block.
 */
@FunctionalInterface
public interface GroupFailureListener {

    void failed(long groupId, Throwable cause);

    GroupFailureListener NONE = (groupId, cause) -> {
    };
}
