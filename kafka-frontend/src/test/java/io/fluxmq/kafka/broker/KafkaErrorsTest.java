package io.fluxmq.kafka.broker;

import static org.assertj.core.api.Assertions.assertThat;

import io.fluxmq.raft.partition.PartitionError;
import io.fluxmq.raft.partition.PartitionException;
import java.util.concurrent.CompletionException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The Kafka error codes partition failures reach clients with. */
class KafkaErrorsTest {
    @Test
    void raftBackPressureIsRetriableForTheJavaProducer() {
        Errors error = KafkaErrors.of(new CompletionException(new PartitionException(PartitionError.BUSY, "busy")));
        assertThat(error).isEqualTo(Errors.REQUEST_TIMED_OUT);
        assertThat(error.exception()).isInstanceOf(RetriableException.class);
    }

    @Test
    void raftBackPressureOnAGroupWriteIsCoordinatorNotAvailable() {
        Errors error = KafkaErrors.ofCoordinatorWrite(new PartitionException(PartitionError.BUSY, "busy"));
        assertThat(error).isEqualTo(Errors.COORDINATOR_NOT_AVAILABLE);
        assertThat(error.exception()).isInstanceOf(RetriableException.class);
    }

    /** Only a failure FluxMQ cannot classify is UNKNOWN_SERVER_ERROR, which the Java producer treats as fatal. */
    @ParameterizedTest
    @EnumSource(PartitionError.class)
    void onlyUnknownIsUnknownServerError(PartitionError partitionError) {
        assertThat(KafkaErrors.of(partitionError) == Errors.UNKNOWN_SERVER_ERROR)
                .isEqualTo(partitionError == PartitionError.UNKNOWN);
    }

    /** Failures that leave the record unwritten or the leader elsewhere are retriable, so the producer retries. */
    @ParameterizedTest
    @EnumSource(value = PartitionError.class, names = {"NOT_LEADER", "LEADER_NOT_READY", "TIMEOUT", "BUSY",
            "STORAGE_ERROR", "CORRUPT_BATCH"})
    void transientFailuresAreRetriable(PartitionError partitionError) {
        assertThat(KafkaErrors.of(partitionError).exception()).isInstanceOf(RetriableException.class);
    }
}
