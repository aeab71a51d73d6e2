package io.fluxmq.raftcore;

import java.util.List;

/**
 * What a group asks its driver to do, collected since the last {@link RaftGroup#advance(Ready)}:
 * <ol>
 *   <li>send {@code messages} at once (a leader's appends and heartbeats do not wait for its own disk);</li>
 *   <li>write {@code hardState} if it is not null and force the log up to {@code persistEnd} (the driver may do this
 *       for many groups with one force);</li>
 *   <li>call {@link RaftGroup#advance(Ready)}, and send the messages it returns (votes and append acknowledgements,
 *       which promise what is now on disk);</li>
 *   <li>if {@code installed} is not null, load the owner's state from it (the log now starts there: a snapshot from
 *       the leader replaced it), then apply the committed entries below {@code commitOffset}.</li>
 * </ol>
 *
 * @param persistEnd the log's end offset when this was made; everything below it must be durable before advance
 * @param installed  the snapshot installed from the leader since the last Ready, or null
 */
public record Ready(HardState hardState, long persistEnd, List<Message> messages,
                    List<Message> messagesAfterPersist, long commitOffset, Snapshot installed) {
}
