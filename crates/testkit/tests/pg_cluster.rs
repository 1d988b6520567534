//! The harness itself: a cluster starts, answers SQL, and is gone after drop.

#[test]
fn cluster_starts_answers_and_is_removed() {
    let port;
    {
        let pg = driftsync_testkit::PgCluster::start();
        port = pg.port();
        let url = pg.create_database("harness_check");
        assert!(url.contains(&port.to_string()));
        assert_eq!(pg.psql("harness_check", "SELECT 40 + 2").trim(), "42");
    }
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "cluster still listening after drop"
    );
}
