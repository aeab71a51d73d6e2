package io.fluxmq.kafka.fetch;

import java.util.List;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.protocol.Errors;

/**
 * How one Fetch request relates to fetch sessions (KIP-227), from {@link FetchSessionCache#newContext}: which
 * partitions to read, and which of the results the response carries under which session id.
 */
public sealed interface FetchContext {
    /** The partitions to read, in this order (it decides which partition gets the first bytes of the budget). */
    List<FetchPosition> partitions();

    /** The response for these results (in {@link #partitions()} order); updates the session, if any. */
    FetchResponseData respond(List<PartitionResult> results);

    /** A request that cannot be served: unknown session, wrong epoch, or topic ids where the session has none. */
    record SessionError(Errors error) implements FetchContext {
        @Override
        public List<FetchPosition> partitions() {
            return List.of();
        }

        @Override
        public FetchResponseData respond(List<PartitionResult> results) {
            return new FetchResponseData().setErrorCode(error.code()).setSessionId(0);
        }
    }

    /** A full fetch that keeps no session (epoch -1, or an incremental one that emptied its session): session id 0. */
    record Sessionless(List<FetchPosition> partitions) implements FetchContext {
        @Override
        public FetchResponseData respond(List<PartitionResult> results) {
            return Responses.of(0, results);
        }
    }

    /** A full fetch asking for a session (epoch 0): every partition answers, and a session is created if one fits. */
    record Full(List<FetchPosition> partitions, boolean usesTopicIds, FetchSessionCache cache) implements FetchContext {
        @Override
        public FetchResponseData respond(List<PartitionResult> results) {
            int id = cache.maybeCreate(partitions, results, usesTopicIds);
            return Responses.of(id, results);
        }
    }

    /** An incremental fetch of an existing session: only partitions with news answer (see {@link FetchSession}). */
    record Incremental(List<FetchPosition> partitions, FetchSession session, FetchSessionCache cache)
            implements FetchContext {
        @Override
        public FetchResponseData respond(List<PartitionResult> results) {
            return Responses.of(session.id(), cache.selectChanged(session, results));
        }
    }
}
