package io.fluxmq.raft.partition;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One producer of a partition as Kafka's DescribeProducers reports it (Kafka's {@code ProducerStateEntry}), taken from
 * the committed entries: the producer's {@link ProducerStateTable} entry and its open transaction in the
 * {@link TxnIndex}.
 *
 * @param lastSequence          the last sequence of its last data batch still in the table, or -1 (none, or only
 *                              markers since its epoch changed)
 * @param lastTimestamp         see {@link ProducerStateTable}: the last batch's max timestamp, at least its append time
 * @param coordinatorEpoch      the transaction coordinator epoch of its last marker; always -1 here: FluxMQ does not
 *                              keep it in the replicated producer state (the marker's epoch is not in the entry header)
 * @param currentTxnStartOffset the first offset of its open transaction, or -1
 */
public record ProducerState(long producerId, short producerEpoch, int lastSequence, long lastTimestamp,
                            int coordinatorEpoch, long currentTxnStartOffset) {

    /** Every producer of {@code table}, in producer id order, with its open transaction from {@code txns}. */
    public static List<ProducerState> of(ProducerStateTable table, TxnIndex txns) {
        Map<Long, Long> open = txns.open();
        List<ProducerState> out = new ArrayList<>(table.size());
        table.forEach((producerId, epoch, lastSequence, lastTimestamp) -> out.add(new ProducerState(producerId,
                epoch, lastSequence, lastTimestamp, -1, open.getOrDefault(producerId, -1L))));
        return out;
    }
}
