import io.fluxmq.kafka.metrics.RecordCounts;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.SimpleRecord;

/**
 * What the node's metrics add per produce request of one partition batch: two percentile timer records (request,
 * Raft commit), a topic lookup, two counter adds and a header record count, timed in a loop. Run from the repository
 * root after a build: {@code java -cp kafka-frontend/target/classes:$(cat node/target/classpath.txt)
 * bench/MetricsCost.java}.
 */
public class MetricsCost {
    public static void main(String[] args) throws Exception {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        Timer request = Timer.builder("fluxmq.request").tag("request", "Produce").publishPercentiles(0.5, 0.99)
                .percentilePrecision(2).register(registry);
        Timer commit = Timer.builder("fluxmq.raft.commit.latency").publishPercentiles(0.5, 0.99)
                .percentilePrecision(2).register(registry);
        ConcurrentHashMap<String, Counter[]> topics = new ConcurrentHashMap<>();
        topics.put("t", new Counter[] {
                Counter.builder("in").tag("topic", "t").register(registry),
                Counter.builder("n").tag("topic", "t").register(registry)});
        SimpleRecord[] r = new SimpleRecord[600];
        for (int i = 0; i < r.length; i++) {
            r[i] = new SimpleRecord(new byte[100]);
        }
        MemoryRecords batch = MemoryRecords.withRecords(Compression.NONE, r);
        String topic = new String("t");
        long sink = 0;
        for (int round = 0; round < 5; round++) {
            int n = 2_000_000;
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                long start = System.nanoTime();
                Counter[] c = topics.get(topic);
                c[0].increment(batch.sizeInBytes());
                c[1].increment(RecordCounts.of(batch));
                commit.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
                request.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
                sink += i;
            }
            long t1 = System.nanoTime();
            System.out.printf("round %d: %.0f ns per produce request (1 partition batch)%n", round, (t1 - t0) / (double) n);
        }
        System.out.println(sink == 42 ? "" : "done");
    }
}
