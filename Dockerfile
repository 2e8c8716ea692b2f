# The newsdex image: the worker that serves the scheduled deployment, and (same image, same tested
# Prefect) the compose stack's Prefect server. See docker-compose.yml.
FROM python:3.11-slim
WORKDIR /src
# constraints.txt pins every dependency (and the build backend, through PIP_CONSTRAINT) to the set
# the test suite passed with: an image built next month installs the same versions.
COPY constraints.txt ./
ENV PIP_CONSTRAINT=/src/constraints.txt
COPY pyproject.toml README.md ./
COPY newsdex newsdex
COPY flows flows
COPY transforms transforms
COPY connectors connectors
COPY mappings mappings
# A normal (not editable) install: the mappings ship inside the package.
RUN pip install --no-cache-dir . && rm -rf /src/build
WORKDIR /app
COPY samples samples
ENV PREFECT_SERVER_ANALYTICS_ENABLED=false
CMD ["newsdex", "--help"]
