package io.fluxmq.admin;

import java.time.DateTimeException;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.TopicPartition;

/**
 * Where {@code group reset-offsets} moves a partition's committed offset, as Kafka's {@code kafka-consumer-groups}
 * does: the log start or end, an absolute offset or a shift from the committed one (both kept within log start and
 * end), or the first offset whose timestamp is at or after a time (the log end when there is none).
 */
record OffsetReset(Kind kind, long value) {
    enum Kind { EARLIEST, LATEST, OFFSET, DATETIME, SHIFT }

    /** The new offset of {@code tp}; {@code atTime} is the offset for the timestamp (-1 or null: none). */
    long newOffset(TopicPartition tp, Long current, long logStart, long logEnd, Long atTime) {
        return switch (kind) {
            case EARLIEST -> logStart;
            case LATEST -> logEnd;
            case OFFSET -> clamp(value, logStart, logEnd);
            case DATETIME -> atTime == null || atTime < 0 ? logEnd : clamp(atTime, logStart, logEnd);
            case SHIFT -> {
                if (current == null) {
                    throw AdminException.failed("partition " + tp + " has no committed offset to shift from; "
                            + "reset it with --to-earliest, --to-latest or --to-offset");
                }
                yield clamp(current + value, logStart, logEnd);
            }
        };
    }

    private static long clamp(long offset, long logStart, long logEnd) {
        return Math.max(logStart, Math.min(logEnd, offset));
    }

    /**
     * A time as epoch milliseconds: ISO-8601 with an offset ({@code 2026-12-01T08:00:00Z},
     * {@code 2026-12-01T09:00:00+01:00}), a local date-time read in {@code zone} ({@code 2026-12-01T08:00:00.000}),
     * or a number of epoch milliseconds.
     */
    static long parseDateTime(String text, ZoneId zone) {
        String s = text.trim();
        if (s.matches("\\d+")) {
            return Long.parseLong(s);
        }
        try {
            return OffsetDateTime.parse(s).toInstant().toEpochMilli();
        } catch (DateTimeException notWithOffset) {
            try {
                return LocalDateTime.parse(s).atZone(zone).toInstant().toEpochMilli();
            } catch (DateTimeException e) {
                throw AdminException.usage("--to-datetime '" + text + "' is not a time: use ISO-8601, e.g. "
                        + "2026-12-01T08:00:00Z, 2026-12-01T08:00:00 (local time) or epoch milliseconds");
            }
        }
    }

    /** A {@code --topic} value: a topic, or {@code topic:p,p,...}; an empty partition list means all. */
    record TopicSelection(String topic, List<Integer> partitions) {
        static TopicSelection parse(String text) {
            int colon = text.lastIndexOf(':');
            if (colon < 0) {
                return new TopicSelection(text, List.of());
            }
            List<Integer> partitions = new ArrayList<>();
            for (String p : text.substring(colon + 1).split(",")) {
                try {
                    partitions.add(Integer.parseInt(p.trim()));
                } catch (NumberFormatException e) {
                    throw AdminException.usage("--topic '" + text + "': partitions must be numbers, e.g. orders:0,1");
                }
            }
            if (colon == 0) {
                throw AdminException.usage("--topic '" + text + "' names no topic");
            }
            return new TopicSelection(text.substring(0, colon), partitions);
        }
    }
}
