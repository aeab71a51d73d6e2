package io.fluxmq.raft.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.fluxmq.raft.tls.PeerTls;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The multi-Raft transport with mutual TLS on 127.0.0.1: nodes with certificates of the same CA exchange batches; a
 * node whose certificate another CA signed is refused at the TLS handshake and delivers nothing, either way round.
 * Key stores are made by the JDK's {@code keytool} at run time.
 */
class NettyTransportTlsIT {
    private static final InetSocketAddress ANY_PORT = new InetSocketAddress("127.0.0.1", 0);
    private static final String PASSWORD = "test-secret";

    @TempDir
    static Path dir;
    static PeerTls cluster;
    static PeerTls rogue;

    private final List<AutoCloseable> closeables = new ArrayList<>();

    @BeforeAll
    static void certificates() throws Exception {
        cluster = tls(ca("cluster"), "cluster");
        rogue = tls(ca("rogue"), "rogue");
    }

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : closeables) {
            c.close();
        }
    }

    @Test
    void nodesWithTheClustersCertificatesExchangeBatches() {
        Map<Integer, InetSocketAddress> addresses = new ConcurrentHashMap<>();
        NettyTransport a = transport(1, cluster, addresses);
        NettyTransport b = transport(2, cluster, addresses);
        await("a batch from node 1 received by node 2 over TLS", () -> {
            a.send(2, List.of());
            return b.stats().batchesReceived() > 0;
        });
        assertThat(b.stats().connectionsRefused()).isZero();
    }

    @Test
    void aNodeWithAnotherCasCertificateIsRefusedBothWays() {
        Map<Integer, InetSocketAddress> addresses = new ConcurrentHashMap<>();
        NettyTransport member = transport(1, cluster, addresses);
        NettyTransport stranger = transport(2, rogue, addresses);
        await("the member refuses the stranger's handshake", () -> {
            stranger.send(1, List.of());
            return member.stats().connectionsRefused() > 0;
        });
        await("the stranger refuses the member's handshake", () -> {
            member.send(2, List.of());
            return stranger.stats().connectionsRefused() > 0;
        });
        assertThat(member.stats().batchesReceived()).isZero();
        assertThat(stranger.stats().batchesReceived()).isZero();
    }

    @Test
    void aPlaintextPeerIsRefused() {
        Map<Integer, InetSocketAddress> addresses = new ConcurrentHashMap<>();
        NettyTransport member = transport(1, cluster, addresses);
        NettyTransport plaintext = transport(2, null, addresses);
        await("the member refuses a connection without TLS", () -> {
            plaintext.send(1, List.of());
            return member.stats().connectionsRefused() > 0;
        });
        assertThat(member.stats().batchesReceived()).isZero();
    }

    private NettyTransport transport(int node, PeerTls tls, Map<Integer, InetSocketAddress> addresses) {
        NettyTransport t = new NettyTransport(NettyTransportConfig.of(node, "tls", ANY_PORT).withTls(tls),
                addresses::get, peer -> { });
        closeables.add(t);
        t.start((from, batch) -> { });
        addresses.put(node, t.localAddress());
        return t;
    }

    private static void await(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("waiting for " + what).isLessThan(deadline);
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }
    }

    /** A CA {@code <name>-ca.p12} and a node key store {@code <name>.p12} it signed (SAN 127.0.0.1). */
    private static Path ca(String name) throws Exception {
        String ca = path(name + "-ca.p12");
        keytool("-genkeypair", "-alias", "ca", "-dname", "CN=" + name + " CA", "-ext", "bc:c", "-keyalg", "EC",
                "-groupname", "secp256r1", "-validity", "2", "-keystore", ca, "-storetype", "PKCS12",
                "-storepass", PASSWORD);
        keytool("-exportcert", "-rfc", "-alias", "ca", "-keystore", ca, "-storepass", PASSWORD, "-file",
                path(name + "-ca.pem"));
        String store = path(name + ".p12");
        keytool("-genkeypair", "-alias", "node", "-dname", "CN=" + name + " node", "-keyalg", "EC", "-groupname",
                "secp256r1", "-validity", "2", "-keystore", store, "-storetype", "PKCS12", "-storepass", PASSWORD);
        keytool("-certreq", "-alias", "node", "-keystore", store, "-storepass", PASSWORD, "-file", path(name + ".csr"));
        keytool("-gencert", "-alias", "ca", "-keystore", ca, "-storepass", PASSWORD, "-infile", path(name + ".csr"),
                "-outfile", path(name + ".crt"), "-rfc", "-validity", "2", "-ext", "SAN=IP:127.0.0.1");
        keytool("-importcert", "-noprompt", "-alias", "ca", "-file", path(name + "-ca.pem"), "-keystore", store,
                "-storepass", PASSWORD);
        keytool("-importcert", "-alias", "node", "-file", path(name + ".crt"), "-keystore", store, "-storepass",
                PASSWORD);
        keytool("-importcert", "-noprompt", "-alias", "ca", "-file", path(name + "-ca.pem"), "-keystore",
                path(name + "-trust.p12"), "-storetype", "PKCS12", "-storepass", PASSWORD);
        return dir;
    }

    /** Mutual TLS with {@code <name>.p12}, trusting only {@code <name>-trust.p12}. */
    private static PeerTls tls(Path dir, String name) throws Exception {
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(load(dir.resolve(name + ".p12")), PASSWORD.toCharArray());
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(load(dir.resolve(name + "-trust.p12")));
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return new PeerTls() {
            @Override
            public SSLEngine serverEngine(InetSocketAddress peer) {
                SSLEngine e = context.createSSLEngine();
                e.setUseClientMode(false);
                e.setNeedClientAuth(true);
                return e;
            }

            @Override
            public SSLEngine clientEngine(String host, int port) {
                SSLEngine e = context.createSSLEngine(host, port);
                e.setUseClientMode(true);
                return e;
            }

            @Override
            public long handshakeTimeoutMs() {
                return 5_000;
            }
        };
    }

    private static KeyStore load(Path file) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(file)) {
            ks.load(in, PASSWORD.toCharArray());
        }
        return ks;
    }

    private static String path(String file) {
        return dir.resolve(file).toString();
    }

    private static void keytool(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(cmd + " failed: " + out);
        }
    }
}
