package io.fluxmq.admin;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import picocli.CommandLine.IDefaultValueProvider;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Where the connection options come from when the command line does not give them, first found wins: the
 * environment ({@code FLUXMQ_BOOTSTRAP}, or the older {@code FLUXMQ_ADMIN_BOOTSTRAP}; {@code FLUXMQ_KAFKA_BOOTSTRAP}
 * or {@code FLUXMQ_ADMIN_KAFKA_BOOTSTRAP}; {@code FLUXMQ_ADMIN_CONTROL_CONFIG}; {@code FLUXMQ_ADMIN_COMMAND_CONFIG}),
 * then a properties file keyed by the options' long names without dashes ({@code bootstrap}, {@code kafka-bootstrap},
 * {@code control-config}, {@code command-config}, {@code timeout-ms}, {@code output}), then the options' own defaults.
 * The file is {@code --admin-config FILE}, else {@code FLUXMQ_ADMIN_CONFIG}, else
 * {@code ~/.fluxmq/admin.properties} when it exists. Immutable.
 */
final class AdminDefaults implements IDefaultValueProvider {
    /** The option that names the file, read from the arguments before picocli parses them. */
    static final String CONFIG_OPTION = "--admin-config";
    static final String CONFIG_ENV = "FLUXMQ_ADMIN_CONFIG";
    /** The file looked for in the home directory when neither --admin-config nor FLUXMQ_ADMIN_CONFIG names one. */
    static final Path HOME_FILE = Path.of(".fluxmq", "admin.properties");

    private static final Map<String, List<String>> ENV = Map.of(
            "bootstrap", List.of("FLUXMQ_BOOTSTRAP", "FLUXMQ_ADMIN_BOOTSTRAP"),
            "kafka-bootstrap", List.of("FLUXMQ_KAFKA_BOOTSTRAP", "FLUXMQ_ADMIN_KAFKA_BOOTSTRAP"),
            "control-config", List.of("FLUXMQ_ADMIN_CONTROL_CONFIG"),
            "command-config", List.of("FLUXMQ_ADMIN_COMMAND_CONFIG"));
    private static final Set<String> FILE_KEYS = Set.of("bootstrap", "kafka-bootstrap", "control-config",
            "command-config", "timeout-ms", "output");

    private final Map<String, String> env;
    private final Properties file;

    private AdminDefaults(Map<String, String> env, Properties file) {
        this.env = env;
        this.file = file;
    }

    /**
     * The defaults for one run.
     *
     * @param args the command line (for {@code --admin-config FILE} or {@code --admin-config=FILE})
     * @param home the user's home directory, null when unknown
     * @throws AdminException {@link AdminException#USAGE} when the file named cannot be read or has a key that is
     *     no connection option (a typo would otherwise be ignored)
     */
    static AdminDefaults load(String[] args, Map<String, String> env, Path home) {
        Path named = configArgument(args);
        if (named == null && env.get(CONFIG_ENV) != null && !env.get(CONFIG_ENV).isBlank()) {
            named = Path.of(env.get(CONFIG_ENV));
        }
        Path path = named != null ? named : home == null ? null : home.resolve(HOME_FILE);
        Properties p = new Properties();
        if (path != null && (named != null || Files.isRegularFile(path))) {
            try (Reader in = Files.newBufferedReader(path)) {
                p.load(in);
            } catch (IOException e) {
                throw AdminException.usage("cannot read the config file " + path + ": " + e);
            }
            Set<String> unknown = new TreeSet<>(p.stringPropertyNames());
            unknown.removeAll(FILE_KEYS);
            if (!unknown.isEmpty()) {
                throw AdminException.usage("the config file " + path + " has unknown keys " + unknown + " (known: "
                        + new TreeSet<>(FILE_KEYS) + ")");
            }
        }
        return new AdminDefaults(env, p);
    }

    private static Path configArgument(String[] args) {
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals(CONFIG_OPTION) && i + 1 < args.length) {
                return Path.of(args[i + 1]);
            }
            if (args[i].startsWith(CONFIG_OPTION + "=")) {
                return Path.of(args[i].substring(CONFIG_OPTION.length() + 1));
            }
        }
        return null;
    }

    @Override
    public String defaultValue(ArgSpec arg) {
        if (!(arg instanceof OptionSpec option)) {
            return null;
        }
        String key = option.longestName().replaceFirst("^-+", "");
        for (String name : ENV.getOrDefault(key, List.of())) {
            String value = env.get(name);
            if (value != null && !value.isBlank()) {
                return value;
            }
        }
        return FILE_KEYS.contains(key) ? file.getProperty(key) : null;
    }
}
