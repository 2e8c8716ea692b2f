# The newsdex worker image (used by docker-compose.yml).
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY flows flows
COPY transforms transforms
COPY connectors connectors
COPY mappings mappings
COPY samples samples
# Editable install: the package reads mappings/ from the project folder.
RUN pip install --no-cache-dir -e .
ENV PREFECT_SERVER_ANALYTICS_ENABLED=false
CMD ["newsdex", "--help"]
