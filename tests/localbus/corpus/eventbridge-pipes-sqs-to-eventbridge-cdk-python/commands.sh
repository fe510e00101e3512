 aws sqs send-message \
 --queue-url=QUEUE_URL \
 --message-body '{"orderId":2222, "customerId": "1111"}'