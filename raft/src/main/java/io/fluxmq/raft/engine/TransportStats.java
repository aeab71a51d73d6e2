package io.fluxmq.raft.engine;

/**
 * Counters of a {@link NettyTransport} since it started. Bytes are the frames' bytes (TCP payload), without TCP/IP
 * headers. A batch may travel as several frames ({@link NettyTransportConfig#maxFrameBytes()}).
 *
 * @param batchesSent          batches written to a connection (empty ones are node heartbeats)
 * @param messagesSent         group messages in them
 * @param bytesSent            frame bytes written, handshakes included
 * @param batchesReceived      batch frames received and handed to the engine
 * @param messagesReceived     group messages in them
 * @param bytesReceived        frame bytes received, handshakes included
 * @param batchesDropped       batches not sent: the peer unreachable, its queue full, or the connection lost with
 *                             them queued
 * @param messagesDropped      group messages in those, and single messages too large for a frame
 * @param connectionsRefused   handshakes this node refused or was refused (cluster id, version, node id mismatch),
 *                             and connections it accepted whose TLS handshake failed
 * @param connectionsCorrupt   connections closed for a frame that did not decode or was too large
 */
public record TransportStats(long batchesSent, long messagesSent, long bytesSent, long batchesReceived,
                             long messagesReceived, long bytesReceived, long batchesDropped, long messagesDropped,
                             long connectionsRefused, long connectionsCorrupt) {
}
