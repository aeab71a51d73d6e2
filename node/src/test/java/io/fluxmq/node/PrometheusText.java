package io.fluxmq.node;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A strict reader of the Prometheus text exposition format 0.0.4, for tests: every line is a {@code # HELP}, a
 * {@code # TYPE} or a sample {@code name{label="value",...} value [timestamp]}; a sample must belong to a family
 * declared by a TYPE line before it (for summaries and histograms also as {@code _sum}, {@code _count},
 * {@code _bucket}); a family is declared once; a series appears once. Anything else throws.
 */
record PrometheusText(Map<String, String> types, List<Sample> samples) {
    private static final Pattern NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
    private static final Pattern TYPE = Pattern.compile("# TYPE (" + NAME + ") (counter|gauge|summary|histogram|untyped)");
    private static final Pattern HELP = Pattern.compile("# HELP (" + NAME + ") .*");
    private static final Pattern SAMPLE = Pattern.compile("(" + NAME + ")(\\{(.*)\\})? (\\S+)( -?\\d+)?");
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\[\\\\\"n])*)\"(,|$)");

    record Sample(String name, Map<String, String> labels, double value) {}

    static PrometheusText parse(String text) {
        Map<String, String> types = new LinkedHashMap<>();
        List<Sample> samples = new ArrayList<>();
        Set<String> series = new java.util.HashSet<>();
        int lineNo = 0;
        for (String line : text.split("\n", -1)) {
            lineNo++;
            if (line.isEmpty()) {
                continue;
            }
            Matcher m;
            if ((m = TYPE.matcher(line)).matches()) {
                if (types.put(m.group(1), m.group(2)) != null) {
                    throw new IllegalArgumentException("line " + lineNo + ": family declared twice: " + line);
                }
            } else if (HELP.matcher(line).matches()) {
                continue;
            } else if (line.startsWith("#")) {
                throw new IllegalArgumentException("line " + lineNo + ": unknown comment: " + line);
            } else if ((m = SAMPLE.matcher(line)).matches()) {
                String name = m.group(1);
                if (family(name, types).isEmpty()) {
                    throw new IllegalArgumentException("line " + lineNo + ": sample without a TYPE: " + line);
                }
                Map<String, String> labels = labels(m.group(3) == null ? "" : m.group(3), lineNo);
                if (!series.add(name + labels)) {
                    throw new IllegalArgumentException("line " + lineNo + ": series repeated: " + line);
                }
                samples.add(new Sample(name, labels, value(m.group(4), lineNo)));
            } else {
                throw new IllegalArgumentException("line " + lineNo + ": not a sample: " + line);
            }
        }
        return new PrometheusText(types, samples);
    }

    private static Optional<String> family(String name, Map<String, String> types) {
        if (types.containsKey(name)) {
            return Optional.of(name);
        }
        for (String suffix : List.of("_sum", "_count", "_bucket")) {
            if (name.endsWith(suffix)) {
                String base = name.substring(0, name.length() - suffix.length());
                String type = types.get(base);
                if ("summary".equals(type) || "histogram".equals(type)) {
                    return Optional.of(base);
                }
            }
        }
        return Optional.empty();
    }

    private static Map<String, String> labels(String text, int lineNo) {
        Map<String, String> labels = new HashMap<>();
        Matcher m = LABEL.matcher(text);
        int at = 0;
        while (at < text.length()) {
            if (!m.find(at) || m.start() != at) {
                throw new IllegalArgumentException("line " + lineNo + ": bad labels: " + text);
            }
            labels.put(m.group(1), m.group(2));
            at = m.end();
        }
        return labels;
    }

    private static double value(String text, int lineNo) {
        switch (text) {
            case "NaN":
                return Double.NaN;
            case "+Inf":
                return Double.POSITIVE_INFINITY;
            case "-Inf":
                return Double.NEGATIVE_INFINITY;
            default:
                try {
                    return Double.parseDouble(text);
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("line " + lineNo + ": bad value " + text);
                }
        }
    }

    /** The samples named {@code name} whose labels include every given {@code key, value} pair. */
    List<Sample> find(String name, String... labelPairs) {
        List<Sample> out = new ArrayList<>();
        for (Sample s : samples) {
            boolean match = s.name().equals(name);
            for (int i = 0; match && i < labelPairs.length; i += 2) {
                match = labelPairs[i + 1].equals(s.labels().get(labelPairs[i]));
            }
            if (match) {
                out.add(s);
            }
        }
        return out;
    }

    /** The value of the one sample {@link #find} finds; throws when there is none or more than one. */
    double value(String name, String... labelPairs) {
        List<Sample> found = find(name, labelPairs);
        if (found.size() != 1) {
            throw new IllegalStateException(found.size() + " samples " + name + " " + List.of(labelPairs) + ": "
                    + found);
        }
        return found.get(0).value();
    }
}
