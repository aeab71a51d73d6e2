package io.fluxmq.node;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A throw-away certificate authority for TLS tests, made at run time with the JDK's {@code keytool} (and
 * {@code openssl} to write a PEM key): a CA, a truststore holding it, and PKCS12 key stores of entities it signed
 * (EC P-256 keys, valid two days, subject alternative names 127.0.0.1 and localhost so that host name verification
 * passes on loopback). Nothing is committed; every file lives in the test's temporary directory.
 */
final class TestCertificates {
    static final String PASSWORD = "test-secret";
    private final Path dir;

    private TestCertificates(Path dir) {
        this.dir = dir;
    }

    /** A new CA in {@code dir}: {@code ca.p12}, {@link #caPem()} and {@link #truststore()}. */
    static TestCertificates create(Path dir) throws IOException, InterruptedException {
        TestCertificates c = new TestCertificates(dir);
        c.keytool("-genkeypair", "-alias", "ca", "-dname", "CN=FluxMQ Test CA", "-ext", "bc:c", "-keyalg", "EC",
                "-groupname", "secp256r1", "-validity", "2", "-keystore", c.path("ca.p12"), "-storetype", "PKCS12",
                "-storepass", PASSWORD);
        c.keytool("-exportcert", "-rfc", "-alias", "ca", "-keystore", c.path("ca.p12"), "-storepass", PASSWORD,
                "-file", c.path("ca.pem"));
        c.keytool("-importcert", "-noprompt", "-alias", "ca", "-file", c.path("ca.pem"), "-keystore",
                c.path("truststore.p12"), "-storetype", "PKCS12", "-storepass", PASSWORD);
        return c;
    }

    Path caPem() {
        return dir.resolve("ca.pem");
    }

    /** PKCS12 truststore holding the CA, password {@link #PASSWORD}. */
    Path truststore() {
        return dir.resolve("truststore.p12");
    }

    /**
     * A PKCS12 key store {@code <name>.p12} (password {@link #PASSWORD}) with a key and its certificate for
     * {@code dname} signed by the CA, chain included.
     */
    Path keystore(String name, String dname) throws IOException, InterruptedException {
        String store = path(name + ".p12");
        keytool("-genkeypair", "-alias", name, "-dname", dname, "-keyalg", "EC", "-groupname", "secp256r1",
                "-validity", "2", "-keystore", store, "-storetype", "PKCS12", "-storepass", PASSWORD);
        keytool("-certreq", "-alias", name, "-keystore", store, "-storepass", PASSWORD, "-file", path(name + ".csr"));
        keytool("-gencert", "-alias", "ca", "-keystore", path("ca.p12"), "-storepass", PASSWORD, "-infile",
                path(name + ".csr"), "-outfile", path(name + ".crt"), "-rfc", "-validity", "2",
                "-ext", "SAN=IP:127.0.0.1,DNS:localhost");
        keytool("-importcert", "-noprompt", "-alias", "ca", "-file", path("ca.pem"), "-keystore", store,
                "-storepass", PASSWORD);
        keytool("-importcert", "-alias", name, "-file", path(name + ".crt"), "-keystore", store, "-storepass",
                PASSWORD);
        return dir.resolve(name + ".p12");
    }

    /**
     * The key (unencrypted PKCS#8) and certificate chain (the entity's, then the CA's) of {@code <name>.p12} as one PEM
     * file, {@code <name>.pem}.
     */
    Path pem(String name) throws IOException, InterruptedException {
        String key = run(List.of("openssl", "pkcs12", "-in", path(name + ".p12"), "-passin", "pass:" + PASSWORD,
                "-nocerts", "-nodes"));
        String block = key.substring(key.indexOf("-----BEGIN"), key.lastIndexOf("-----") + 5);
        Path pem = dir.resolve(name + ".pem");
        Files.writeString(pem, block + "\n" + Files.readString(dir.resolve(name + ".crt")).trim() + "\n"
                + Files.readString(caPem()).trim() + "\n");
        return pem;
    }

    private String path(String file) {
        return dir.resolve(file).toString();
    }

    private void keytool(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        cmd.addAll(List.of(args));
        run(cmd);
    }

    private static String run(List<String> cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("timed out: " + cmd);
        }
        if (p.exitValue() != 0) {
            throw new IOException(cmd + " failed (" + p.exitValue() + "): " + out);
        }
        return out;
    }
}
