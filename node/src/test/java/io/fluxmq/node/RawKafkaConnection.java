package io.fluxmq.node;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;

/**
 * A blocking socket to a Kafka listener, plain or TLS, for sending bytes no Kafka client would. Every read is bounded
 * by a timeout; writes that fail because the server already closed are remembered rather than thrown.
 */
final class RawKafkaConnection implements AutoCloseable {
    private static final int TIMEOUT_MS = 5_000;
    private final Socket socket;
    private boolean writeFailed;

    private RawKafkaConnection(Socket socket) {
        this.socket = socket;
    }

    static RawKafkaConnection open(int port) throws IOException {
        return open(port, null);
    }

    /** A connection from {@code localAddress} (say 127.0.0.2, another loopback address; null: the system's choice). */
    static RawKafkaConnection open(int port, String localAddress) throws IOException {
        Socket socket = new Socket();
        if (localAddress != null) {
            socket.bind(new InetSocketAddress(localAddress, 0));
        }
        socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), TIMEOUT_MS);
        socket.setSoTimeout(TIMEOUT_MS);
        return new RawKafkaConnection(socket);
    }

    /** A TLS connection trusting what {@code context} trusts, its handshake done (bytes then go inside TLS records). */
    static RawKafkaConnection openTls(int port, SSLContext context) throws IOException {
        Socket plain = new Socket();
        plain.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), TIMEOUT_MS);
        plain.setSoTimeout(TIMEOUT_MS);
        SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket(plain, "127.0.0.1", port, true);
        socket.startHandshake();
        return new RawKafkaConnection(socket);
    }

    /** Sends raw bytes; a reset or broken pipe (the server closed first) is not an error here. */
    RawKafkaConnection send(byte[] bytes) throws IOException {
        try {
            socket.getOutputStream().write(bytes);
            socket.getOutputStream().flush();
        } catch (SocketException | SSLException e) {
            writeFailed = true;
        }
        return this;
    }

    /** Sends {@code body} behind a 4-byte length prefix. */
    RawKafkaConnection sendFrame(ByteBuffer body) throws IOException {
        ByteBuffer frame = ByteBuffer.allocate(4 + body.remaining()).putInt(body.remaining()).put(body.duplicate());
        return send(frame.array());
    }

    /** Half-closes: the server sees end of stream, as when a client dies mid-request. */
    void shutdownOutput() throws IOException {
        if (!writeFailed && !socket.isOutputShutdown()) {
            socket.shutdownOutput();
        }
    }

    /** Reads one size-prefixed response frame (without its prefix), waiting at most the socket timeout. */
    ByteBuffer readFrame() throws IOException {
        DataInputStream in = new DataInputStream(socket.getInputStream());
        int size = in.readInt();
        if (size < 0 || size > 16 << 20) {
            throw new IOException("implausible response size " + size);
        }
        byte[] body = new byte[size];
        in.readFully(body);
        return ByteBuffer.wrap(body);
    }

    /** What the server did within {@code wait}: closed (EOF or reset) or not, and how many bytes it sent first. */
    record Outcome(boolean closed, int bytesReceived) {}

    Outcome awaitClose(Duration wait) throws IOException {
        long deadline = System.nanoTime() + wait.toNanos();
        InputStream in = socket.getInputStream();
        byte[] buf = new byte[4096];
        int received = 0;
        while (true) {
            long leftMs = Duration.ofNanos(deadline - System.nanoTime()).toMillis();
            if (leftMs <= 0) {
                return new Outcome(false, received);
            }
            socket.setSoTimeout((int) leftMs);
            try {
                int n = in.read(buf);
                if (n < 0) {
                    return new Outcome(true, received);
                }
                received += n;
            } catch (SocketTimeoutException e) {
                return new Outcome(false, received);
            } catch (SocketException | SSLException e) {
                // reset, or over TLS the connection ending without a close_notify
                return new Outcome(true, received);
            } finally {
                socket.setSoTimeout(TIMEOUT_MS);
            }
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
