package io.fluxmq.kafka.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fluxmq.kafka.metrics.FrontendMetrics;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.requests.RequestUtils;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The node-wide bounds on Kafka connections ({@link ConnectionLimits}) on a real listener with real sockets:
 * idle connections close, per-address and total connection counts hold, and request memory pauses reading without
 * stopping the connections that stay within it.
 */
class ConnectionLimitsTest {
    /** How long a test accepts that something does not happen (a request not answered, a connection not closed). */
    private static final int ABSENCE_MS = 500;
    private static final int WAIT_MS = 10_000;

    private KafkaFrontend frontend;
    private final List<Socket> sockets = new ArrayList<>();

    @AfterEach
    void close() throws IOException {
        for (Socket s : sockets) {
            s.close();
        }
        if (frontend != null) {
            frontend.close();
        }
    }

    private void start(ConnectionLimits limits, int maxRequestBytes) throws InterruptedException {
        frontend = new KafkaFrontend(List.of(new KafkaFrontendConfig("EXTERNAL", "127.0.0.1", 0, maxRequestBytes,
                100)), FakeBrokerServices.registry(), FrontendMetrics.NONE, limits);
        frontend.start();
    }

    private static ConnectionLimits limits(long idleMs, int max, int perIp, String overrides, long memory) {
        return new ConnectionLimits(idleMs, max, perIp, ConnectionLimits.parseOverrides(overrides), memory);
    }

    private Socket connect() throws IOException {
        Socket s = new Socket(InetAddress.getLoopbackAddress(), frontend.port());
        s.setSoTimeout(WAIT_MS);
        sockets.add(s);
        return s;
    }

    private static byte[] apiVersions(int correlationId) {
        RequestHeader header = new RequestHeader(ApiKeys.API_VERSIONS, (short) 3, "limits-test", correlationId);
        ByteBuffer body = RequestUtils.serialize(header.data(), header.headerVersion(), new ApiVersionsRequestData()
                .setClientSoftwareName("test").setClientSoftwareVersion("1"), (short) 3);
        ByteBuffer frame = ByteBuffer.allocate(4 + body.remaining()).putInt(body.remaining()).put(body);
        return frame.array();
    }

    /** Sends an ApiVersions request and returns the correlation id of the response read. */
    private static int roundTrip(Socket s, int correlationId) throws IOException {
        s.getOutputStream().write(apiVersions(correlationId));
        return readResponse(s);
    }

    private static int readResponse(Socket s) throws IOException {
        DataInputStream in = new DataInputStream(s.getInputStream());
        byte[] response = new byte[in.readInt()];
        in.readFully(response);
        return ByteBuffer.wrap(response).getInt();
    }

    /** True when the server closed {@code s} (end of stream or reset) within {@link #WAIT_MS}. */
    private static boolean closedByServer(Socket s) throws IOException {
        try {
            return s.getInputStream().read() == -1;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) { // connection reset
            return true;
        }
    }

    private static void assertNoResponseWithin(Socket s, int ms) throws IOException {
        s.setSoTimeout(ms);
        assertThatThrownBy(() -> readResponse(s)).isInstanceOf(SocketTimeoutException.class);
        s.setSoTimeout(WAIT_MS);
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WAIT_MS);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + WAIT_MS + " ms: " + what);
            }
            Thread.sleep(5); // polling interval of a condition, not a wait for time to pass
        }
    }

    @Test
    void anIdleConnectionIsClosedAndABusyOneIsNot() throws Exception {
        start(limits(300, Integer.MAX_VALUE, Integer.MAX_VALUE, "", -1), 1 << 20);
        Socket idle = connect();
        Socket busy = connect();
        long start = System.nanoTime();
        int requests = 0;
        while (System.nanoTime() - start < TimeUnit.MILLISECONDS.toNanos(900) && requests < 100_000) {
            assertThat(roundTrip(busy, requests)).isEqualTo(requests);
            requests++;
        }
        assertThat(closedByServer(idle)).as("idle connection closed").isTrue();
        assertThat(roundTrip(busy, 7)).as("busy connection still answered after %d requests", requests).isEqualTo(7);
        await(() -> frontend.connections() == 1, "the idle connection no longer counted");
    }

    @Test
    void connectionsFromOneAddressAreBoundedAndOverridesApply() throws Exception {
        start(limits(600_000, Integer.MAX_VALUE, 2, "", -1), 1 << 20);
        Socket first = connect();
        Socket second = connect();
        assertThat(roundTrip(first, 1)).isEqualTo(1);
        assertThat(roundTrip(second, 2)).isEqualTo(2);
        Socket third = connect();
        assertThat(closedByServer(third)).as("third connection from 127.0.0.1 closed").isTrue();
        assertThat(roundTrip(first, 3)).as("the first two keep working").isEqualTo(3);

        first.close();
        await(() -> frontend.connections() == 1, "the closed connection released");
        assertThat(roundTrip(connect(), 4)).as("a slot freed is taken again").isEqualTo(4);
        frontend.close();

        start(limits(600_000, Integer.MAX_VALUE, 2, "localhost:3, 127.0.0.1:3", -1), 1 << 20);
        for (int i = 0; i < 3; i++) {
            assertThat(roundTrip(connect(), i)).as("connection %d under the override of 3", i).isEqualTo(i);
        }
        assertThat(closedByServer(connect())).as("fourth closed").isTrue();
    }

    @Test
    void atMaxConnectionsNewOnesWaitUntilOneCloses() throws Exception {
        start(limits(600_000, 2, Integer.MAX_VALUE, "", -1), 1 << 20);
        Socket first = connect();
        Socket second = connect();
        assertThat(roundTrip(first, 1)).isEqualTo(1);
        assertThat(roundTrip(second, 2)).isEqualTo(2);
        await(() -> frontend.connections() == 2, "two connections counted");

        Socket waiting = connect(); // the kernel completes the handshake; the node does not accept it yet
        waiting.getOutputStream().write(apiVersions(3));
        assertNoResponseWithin(waiting, ABSENCE_MS);
        assertThat(roundTrip(second, 4)).as("the open ones keep working").isEqualTo(4);

        first.close();
        assertThat(readResponse(waiting)).as("answered once a slot freed").isEqualTo(3);
        assertThat(frontend.connections()).isEqualTo(2);
    }

    @Test
    void requestMemoryPausesReadingOverTheBoundAndResumesWhenReleased() throws Exception {
        int maxRequest = 64 << 10;
        long bound = 100 << 10;
        start(limits(600_000, Integer.MAX_VALUE, Integer.MAX_VALUE, "", bound), maxRequest);
        // two clients each send most of a 60 KiB request and stop: 100 KiB held, over the bound
        Socket a = connect();
        Socket b = connect();
        OutputStream outA = a.getOutputStream();
        outA.write(ByteBuffer.allocate(4).putInt(60 << 10).array());
        outA.write(new byte[50 << 10]);
        await(() -> frontend.requestMemoryUsed() == 4 + (50 << 10), "a's bytes accounted");
        OutputStream outB = b.getOutputStream();
        outB.write(ByteBuffer.allocate(4).putInt(60 << 10).array());
        outB.write(new byte[50 << 10]);
        await(() -> frontend.requestMemoryUsed() > bound, "the bound crossed");

        // a third client's next read is accounted and its request answered, then it reads no more
        Socket c = connect();
        assertThat(roundTrip(c, 1)).isEqualTo(1);
        c.getOutputStream().write(apiVersions(2));
        assertNoResponseWithin(c, ABSENCE_MS);

        a.close(); // gives back a's 50 KiB: within the bound again
        assertThat(readResponse(c)).as("answered once memory was released").isEqualTo(2);
        b.close();
        c.close();
        await(() -> frontend.requestMemoryUsed() == 0, "every byte given back");
    }

    @Test
    void aStalledLargeDeclarationCostsOnlyWhatArrivedAndTheIdleTimerClosesIt() throws Exception {
        start(limits(3_000, Integer.MAX_VALUE, Integer.MAX_VALUE, "", RequestMemory.DEFAULT), 100 << 20);
        List<Socket> stalled = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            Socket s = connect();
            s.getOutputStream().write(ByteBuffer.allocate(14).putInt(100 << 20).array()); // 100 MB declared, 10 sent
            stalled.add(s);
        }
        await(() -> frontend.requestMemoryUsed() == 50 * 14, "what arrived accounted");
        assertThat(roundTrip(connect(), 9)).as("another client is served").isEqualTo(9);
        for (Socket s : stalled) {
            assertThat(closedByServer(s)).as("stalled connection closed by the idle timer").isTrue();
        }
        await(() -> frontend.requestMemoryUsed() == 0, "their bytes given back");
    }

    @Test
    void aConnectionAcceptedPastTheGateWaitsForASlotInArrivalOrder() throws Exception {
        List<Boolean> gate = new ArrayList<>();
        List<String> served = new ArrayList<>();
        ConnectionLimiter limiter = new ConnectionLimiter(limits(600_000, 2, 2, "", -1), gate::add);
        InetAddress local = InetAddress.getLoopbackAddress();
        InetAddress other = InetAddress.getByAddress(new byte[] {10, 0, 0, 1});
        ConnectionLimiter.Connection[] c = new ConnectionLimiter.Connection[4];
        for (int i = 0; i < c.length; i++) {
            String name = "c" + i;
            InetAddress address = i < 3 ? local : other;
            c[i] = new ConnectionLimiter.Connection() {
                @Override
                public InetAddress address() {
                    return address;
                }

                @Override
                public void serve() {
                    served.add(name);
                }
            };
        }
        assertThat(limiter.admit(c[0])).isEqualTo(ConnectionLimiter.Admission.SERVED);
        assertThat(limiter.admit(c[1])).isEqualTo(ConnectionLimiter.Admission.SERVED);
        assertThat(gate).containsExactly(false);
        assertThat(limiter.admit(c[2])).as("third from the same address").isEqualTo(
                ConnectionLimiter.Admission.PER_IP_LIMIT);
        assertThat(limiter.admit(c[3])).isEqualTo(ConnectionLimiter.Admission.WAITING);
        assertThat(limiter.waiting()).isEqualTo(1);

        limiter.closed(c[0]);
        assertThat(served).containsExactly("c3");
        assertThat(gate).as("still full: the gate stays closed").containsExactly(false);
        assertThat(limiter.admit(c[2])).as("a slot of 127.0.0.1 freed, the total is full").isEqualTo(
                ConnectionLimiter.Admission.WAITING);
        limiter.closed(c[2]); // closed while waiting
        assertThat(limiter.waiting()).isZero();
        limiter.closed(c[1]);
        assertThat(gate).containsExactly(false, true);
        assertThat(limiter.served()).isEqualTo(1);
    }

    @Test
    void overridesAreParsedOrRefusedWithTheEntryNamed() {
        assertThat(ConnectionLimits.parseOverrides("127.0.0.1:5, [::1]:7"))
                .containsEntry(InetAddress.getLoopbackAddress(), 5).hasSize(2);
        assertThat(ConnectionLimits.parseOverrides(" ")).isEmpty();
        assertThatThrownBy(() -> ConnectionLimits.parseOverrides("127.0.0.1")).hasMessageContaining("'127.0.0.1'");
        assertThatThrownBy(() -> ConnectionLimits.parseOverrides("127.0.0.1:x")).hasMessageContaining("no count");
        assertThatThrownBy(() -> ConnectionLimits.parseOverrides("127.0.0.1:-1")).hasMessageContaining("negative");
        assertThatThrownBy(() -> new ConnectionLimits(0, 1, 1, Map.of(), -1))
                .hasMessageContaining("connections.max.idle.ms");
    }
}
