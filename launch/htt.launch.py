"""Start htt_node (a lifecycle node) on a camera, optionally with RViz.

    ros2 launch htt_ros htt.launch.py image_topic:=/camera/color/image_raw \
        camera_info_topic:=/camera/color/camera_info namespace:=left_cam rviz:=true

Several cameras: one launch per camera, each in its own namespace.
"""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import LifecycleNode, Node

from htt_ros.ros import launch_support

ARGUMENTS = {
    "params_file": ("", "parameters YAML; empty = the package's config/htt.yaml"),
    "namespace": ("", "namespace of the node and its topics (one per camera)"),
    "image_topic": (
        "/camera/image_raw",
        "input image topic (raw; <topic>/compressed if image_transport is compressed)",
    ),
    "image_transport": (
        "",
        "raw or compressed (<image_topic>/compressed); empty = the parameters file's value",
    ),
    "camera_info_topic": ("/camera/camera_info", "input CameraInfo topic"),
    "model": ("", "model folder; empty = the parameters file's value"),
    "backend": ("", "onnxruntime, tensorrt or torch; empty = the parameters file's value"),
    "use_sim_time": ("false", "use /clock (bag replay)"),
    "autostart": (
        "",
        "true: configure and activate at start; false: wait for a lifecycle manager; "
        "empty = the parameters file's value",
    ),
    "rviz": ("false", "also start RViz with config/htt.rviz"),
    "log_level": ("info", "node log level: debug, info, warn, error, fatal"),
    "respawn": ("false", "start the node again if it exits"),
    "rviz_fixed_frame": (
        "camera_optical_frame",
        "RViz fixed frame: the camera's optical frame, the frame id the outputs carry",
    ),
}


def _launch_setup(context, *args, **kwargs):
    def arg(name: str) -> str:
        return LaunchConfiguration(name).perform(context)

    share = launch_support.package_share()
    use_sim_time = launch_support.parse_bool(arg("use_sim_time"))
    actions = [
        LifecycleNode(
            package=launch_support.PACKAGE,
            executable="htt_node",
            name="htt_node",
            namespace=arg("namespace"),
            parameters=[
                str(launch_support.resolve_params_file(arg("params_file"), share)),
                launch_support.node_parameter_overrides(
                    arg("model"),
                    arg("backend"),
                    use_sim_time,
                    arg("autostart"),
                    arg("image_transport"),
                ),
            ],
            remappings=launch_support.camera_remappings(
                arg("image_topic"), arg("camera_info_topic")
            ),
            ros_arguments=["--log-level", launch_support.log_level(arg("log_level"))],
            respawn=launch_support.parse_bool(arg("respawn")),
            respawn_delay=launch_support.RESPAWN_DELAY_S,
            output="screen",
            emulate_tty=True,
        )
    ]
    if launch_support.parse_bool(arg("rviz")):
        actions.append(
            Node(
                package="rviz2",
                executable="rviz2",
                namespace=arg("namespace"),
                arguments=launch_support.rviz_arguments(
                    share / "config" / launch_support.RVIZ_CONFIG, arg("rviz_fixed_frame")
                ),
                parameters=[{"use_sim_time": use_sim_time}],
            )
        )
    return actions


def generate_launch_description() -> LaunchDescription:
    declared = [
        DeclareLaunchArgument(name, default_value=default, description=description)
        for name, (default, description) in ARGUMENTS.items()
    ]
    return LaunchDescription([*declared, OpaqueFunction(function=_launch_setup)])
