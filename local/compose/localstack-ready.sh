#!/bin/sh
# LocalStack init hook: the JWT signing secret the write API reads at cold start.
# A local, obviously fake value; on AWS the CDK stack generates a real one.
awslocal secretsmanager create-secret \
  --name million-rps/jwt-secret \
  --secret-string "dev-only-fake-secret-change-me-0123456789abcdef" >/dev/null
echo "created secret million-rps/jwt-secret"
