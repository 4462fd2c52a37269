# syntax=docker/dockerfile:1
# ReadHistory container image: one executable, `readhistory`, running the roles given by ReadHistory__Roles
# (proxy | cache | cdc | all); `readhistory migrate` creates or upgrades the schema and exits.
#   docker build -t readhistory:dev .
#   docker run --rm -p 50051:50051 -p 8080:8080 -e ReadHistory__Roles=all -e ReadHistory__Auth__AllowAnonymous=true readhistory:dev
# (it listens on 0.0.0.0: without API keys (ReadHistory__Auth__Mode=ApiKeys) anonymous access must be allowed explicitly)
# Not built in the environment where it was written (no container engine there); see docs/operations.md.

ARG DOTNET_VERSION=10.0

FROM mcr.microsoft.com/dotnet/sdk:${DOTNET_VERSION} AS build
WORKDIR /src
ENV DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

# Restore first, from the project files and the central build/package settings only, so the restore
# layer is reused until a dependency changes.
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/ReadHistory.Core/ReadHistory.Core.csproj src/ReadHistory.Core/
COPY src/ReadHistory.Api/ReadHistory.Api.csproj src/ReadHistory.Api/
COPY src/ReadHistory.MySql.Replication/ReadHistory.MySql.Replication.csproj src/ReadHistory.MySql.Replication/
COPY src/ReadHistory.Server/ReadHistory.Server.csproj src/ReadHistory.Server/NodeRuntime.props src/ReadHistory.Server/
RUN dotnet restore src/ReadHistory.Server/ReadHistory.Server.csproj

COPY protos/ protos/
COPY src/ src/
RUN dotnet publish src/ReadHistory.Server/ReadHistory.Server.csproj \
      -c Release --no-restore -o /app/publish /p:UseAppHost=false

FROM mcr.microsoft.com/dotnet/aspnet:${DOTNET_VERSION} AS runtime
WORKDIR /app
ENV DOTNET_CLI_TELEMETRY_OPTOUT=1 \
    ReadHistory__GrpcListen=0.0.0.0:50051 \
    ReadHistory__InternalGrpcListen=0.0.0.0:50052 \
    ReadHistory__HttpListen=0.0.0.0:8080
COPY --from=build --chown=root:root /app/publish/ ./
# The aspnet image's unprivileged user (app, UID/GID 1654); numeric so runAsNonRoot can verify it.
USER 1654:1654
# 50051 public gRPC, 50052 internal gRPC (cache role: proxies and peers only), 8080 metrics and health.
EXPOSE 50051 50052 8080
ENTRYPOINT ["dotnet", "readhistory.dll"]
