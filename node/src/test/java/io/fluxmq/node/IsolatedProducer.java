package io.fluxmq.node;

import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * A producer process for {@link NetworkPartitionIT}, run inside the cut-off node's namespace so that the only broker
 * it can reach is that node. It sends {@code count} records ({@code <prefix>-<i>}) to one partition with acks=all
 * and a short delivery timeout, waits for every outcome, and prints one {@code ISOLATED ACK value offset} line per
 * acknowledgement and a closing {@code ISOLATED SUMMARY sent=N acked=N errors={...}} line.
 *
 * <p>Idempotence is off on purpose: an idempotent producer first needs a producer id, which a cut-off node cannot
 * allocate, so no produce request would ever reach the partition's write path.
 *
 * <p>Arguments: bootstrap topic partition count intervalMs prefix.
 */
final class IsolatedProducer {
    private IsolatedProducer() {
    }

    public static void main(String[] args) throws Exception {
        String bootstrap = args[0];
        String topic = args[1];
        int partition = Integer.parseInt(args[2]);
        int count = Integer.parseInt(args[3]);
        long intervalMs = Long.parseLong(args[4]);
        String prefix = args[5];
        Map<String, Object> config = Map.of(ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false,
                ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 4000,
                ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 8000,
                ProducerConfig.MAX_BLOCK_MS_CONFIG, 8000);
        AtomicInteger acked = new AtomicInteger();
        Map<String, Integer> errors = new ConcurrentHashMap<>();
        int sent = 0;
        try (KafkaProducer<String, String> producer = Clients.producer(bootstrap, config)) {
            for (int i = 0; i < count; i++) {
                String value = prefix + "-" + i;
                producer.send(new ProducerRecord<>(topic, partition, "k" + i, value), (md, e) -> {
                    if (e == null) {
                        acked.incrementAndGet();
                        System.out.println("ISOLATED ACK " + value + " " + md.offset());
                    } else {
                        errors.merge(e.getClass().getSimpleName(), 1, Integer::sum);
                    }
                });
                sent++;
                Thread.sleep(intervalMs);
            }
            producer.flush();
            producer.close(Duration.ofSeconds(5));
        } catch (Exception e) {
            errors.merge("send:" + e.getClass().getSimpleName(), 1, Integer::sum);
        }
        System.out.println("ISOLATED SUMMARY sent=" + sent + " acked=" + acked.get() + " errors="
                + new TreeMap<>(errors));
        System.out.flush();
        System.exit(0);
    }
}
