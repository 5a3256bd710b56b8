FROM python:3.11-slim
WORKDIR /app
COPY . .
RUN pip install --no-cache-dir .
ENV LEADFLOW_HTTP_HOST=0.0.0.0 LEADFLOW_LOG_FORMAT=json
EXPOSE 8000
CMD ["leadflow", "up"]
