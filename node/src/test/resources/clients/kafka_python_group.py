"""A kafka-python (Debian python3-kafka) consumer group member for CrossClientGroupsIT.

Usage: kafka_python_group.py BOOTSTRAP TOPIC GROUP EXPECTED_RECORDS TIMEOUT_SECONDS
Subscribes in GROUP, reads until EXPECTED_RECORDS arrived (or the timeout), commits synchronously, then prints one
JSON line: {"records": n, "values": [...], "committed": {"partition": offset}} and leaves the group.
"""
import json
import sys
import time

from kafka import KafkaConsumer, TopicPartition

bootstrap, topic, group, expected, timeout = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group, auto_offset_reset="earliest",
                         enable_auto_commit=False, consumer_timeout_ms=1000)
values = []
deadline = time.time() + timeout
while len(values) < expected and time.time() < deadline:
    for tp, records in consumer.poll(timeout_ms=500).items():
        values.extend(r.value.decode("utf-8") for r in records)
consumer.commit()
partitions = consumer.partitions_for_topic(topic) or set()
committed = {str(p): consumer.committed(TopicPartition(topic, p)) for p in sorted(partitions)}
print(json.dumps({"records": len(values), "values": values, "committed": committed}), flush=True)
consumer.close()
